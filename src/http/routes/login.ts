// Sign-in pages under /me. `GET /me` starts a sign-in: at the OpenID provider when one is
// configured, else with the local form when local users have passwords (else me.ts explains how
// to get a token from an administrator). It ends on a page with the user's cargo token.
// `GET /me/replace_token` is the same sign-in, ending with the old login token revoked and a new
// one shown: the way out when a token leaks. `GET /me/local` is the local form even beside OIDC
// (an emergency admin). Refusals are pages that say why.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { OidcLogin } from '../../auth/oidc-client.js';
import type { OidcUsers } from '../../auth/oidc-users.js';
import type { PasswordLogin } from '../../auth/password.js';
import type { LoginPurpose, SessionCookies } from '../../auth/session-cookie.js';
import { RegistryError, invalid } from '../../domain/errors.js';
import type { MetadataStore, User } from '../../ports/metadata-store.js';
import type { AccountService } from '../../services/accounts.js';
import type { RateLimiter } from '../../services/rate-limiter.js';
import { html, sendPage } from '../pages/html.js';
import { loginFormBody } from '../pages/login-form.js';
import { existingTokenBody, newTokenBody } from '../pages/token-page.js';

export interface LoginDeps {
  accounts: AccountService;
  store: MetadataStore;
  oidc: { login: OidcLogin; users: OidcUsers } | undefined;
  passwords: PasswordLogin;
  /** Sign-in starts (OIDC) per client address; password attempts are limited inside PasswordLogin. */
  startsByAddress: RateLimiter;
  sessions: SessionCookies;
  registryName: string;
  /** The registry's public base URL, without trailing slash. */
  publicUrl: () => string;
}

const STATUS: Record<string, number> = { invalid: 400, unauthenticated: 401, forbidden: 403, 'rate-limited': 429, unavailable: 503 };

const TITLES: Record<number, string> = {
  400: 'Sign-in failed',
  401: 'Sign-in failed',
  403: 'Sign-in refused',
  429: 'Too many sign-in attempts',
  503: 'Sign-in unavailable',
};

function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown): FastifyReply {
  if (!(error instanceof RegistryError) || STATUS[error.kind] === undefined) throw error;
  const status = STATUS[error.kind]!;
  if (status === 503) request.log.warn({ err: error }, 'sign-in failed');
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return sendPage(reply, status, TITLES[status]!, html`<p class="refusal" id="problem">${error.message}</p>
<p><a href="/me">Start again</a></p>`);
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function loginRoutes(app: FastifyInstance, deps: LoginDeps) {
  const urls = () => {
    const base = deps.publicUrl();
    return { index: `${base}/index/`, replace: `${base}/me/replace_token` };
  };

  async function showToken(reply: FastifyReply, user: User, purpose: LoginPurpose): Promise<FastifyReply> {
    const result = await deps.accounts.loginToken(user.login, purpose === 'replace');
    const common = { login: user.login, registryName: deps.registryName, indexUrl: urls().index, replaceUrl: urls().replace };
    reply.header('set-cookie', deps.sessions.clear());
    if ('existing' in result) {
      return sendPage(reply, 200, 'You have a cargo token', existingTokenBody({ ...common, createdAt: result.existing.createdAt }));
    }
    return sendPage(reply, 200, 'Your cargo token', newTokenBody({ ...common, token: result.token, replaced: result.replaced }));
  }

  async function localForm(reply: FastifyReply, purpose: LoginPurpose, status = 200, problem?: string): Promise<FastifyReply> {
    const csrf = randomBytes(24).toString('base64url');
    reply.header('set-cookie', await deps.sessions.seal({ purpose, csrf }));
    return sendPage(reply, status, 'Sign in', loginFormBody({ csrf, purpose, oidcAvailable: deps.oidc !== undefined, problem }));
  }

  /** Starts a sign-in; undefined when there is no way to sign in here (me.ts explains then). */
  async function signIn(request: FastifyRequest, reply: FastifyReply, purpose: LoginPurpose): Promise<FastifyReply | undefined> {
    try {
      if (deps.oidc) {
        deps.startsByAddress.take(request.ip);
        const { url, flow } = await deps.oidc.login.begin(deps.oidc.login.callbackUrl(deps.publicUrl()));
        reply.header('set-cookie', await deps.sessions.seal({ purpose, ...flow }));
        return reply.header('cache-control', 'no-store').redirect(url, 302);
      }
      if (await deps.store.anyPasswordSet()) return await localForm(reply, purpose);
      return undefined;
    } catch (error) {
      return sendProblem(reply, request, error);
    }
  }

  app.get('/me/replace_token', async (request, reply) => (await signIn(request, reply, 'replace')) ?? reply.redirect('/me', 302));

  app.get('/me/local', async (request, reply) => {
    const purpose: LoginPurpose = (request.query as { purpose?: string }).purpose === 'replace' ? 'replace' : 'token';
    if (!(await deps.store.anyPasswordSet())) return reply.redirect('/me', 302);
    return localForm(reply, purpose);
  });

  app.get('/me/callback', async (request, reply) => {
    try {
      if (!deps.oidc) throw invalid('oidc-not-configured', 'this registry has no OpenID provider configured');
      const flow = await deps.sessions.unseal(request.headers.cookie);
      if (!flow?.state || !flow.nonce || !flow.codeVerifier) {
        throw invalid('login-flow-missing', 'this sign-in expired or was started in another browser; start again at /me');
      }
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      const identity = await deps.oidc.login.finish(new URL(deps.oidc.login.callbackUrl(deps.publicUrl()) + query), {
        state: flow.state,
        nonce: flow.nonce,
        codeVerifier: flow.codeVerifier,
      });
      const user = await deps.oidc.users.signIn(identity);
      request.log.info({ login: user.login, sub: identity.subject }, 'signed in with OIDC');
      return await showToken(reply, user, flow.purpose);
    } catch (error) {
      reply.header('set-cookie', deps.sessions.clear());
      return sendProblem(reply, request, error);
    }
  });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.post('/me/login', async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string | undefined>;
    const flow = await deps.sessions.unseal(request.headers.cookie);
    if (!flow?.csrf || typeof form.csrf !== 'string' || !sameText(flow.csrf, form.csrf)) {
      return sendProblem(reply, request, invalid('csrf', 'the form expired or did not come from this registry; start again at /me'));
    }
    try {
      const user = await deps.passwords.verify(form.login ?? '', form.password ?? '', request.ip);
      request.log.info({ login: user.login }, 'signed in with a password');
      return await showToken(reply, user, flow.purpose);
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'wrong-password') return localForm(reply, flow.purpose, 401, error.message);
      return sendProblem(reply, request, error);
    }
  });

  return { signIn };
}
