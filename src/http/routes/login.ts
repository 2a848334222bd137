// Sign-in pages. `GET /sign-in` offers the configured ways to sign in to the web pages and returns
// to the page the visitor came from. `GET /me` (where `cargo login` points) starts a sign-in: at the
// OpenID provider when one is configured, else with the local form when local users have passwords
// (else me.ts explains how to get a token from an administrator); it ends on a page with the user's
// cargo token. `GET /me/replace_token` is the same sign-in, ending with the old login token revoked
// and a new one shown: the way out when a token leaks. `GET /me/local` is the local form even
// beside OIDC (an emergency admin). Every sign-in also starts a browser session
// (auth/web-sessions.ts). Refusals are pages that say why; sign-ins and failed ones are audited.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { OidcLogin } from '../../auth/oidc-client.js';
import type { OidcUsers } from '../../auth/oidc-users.js';
import type { PasswordLogin } from '../../auth/password.js';
import type { LoginFlow, LoginPurpose, SessionCookies } from '../../auth/session-cookie.js';
import type { WebSessions } from '../../auth/web-sessions.js';
import { RegistryError, invalid } from '../../domain/errors.js';
import type { User, Users } from '../../ports/users.js';
import type { AccountService } from '../../services/accounts.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { RateLimiter } from '../../lib/rate-limiter.js';
import { auditSource } from '../audit-source.js';
import { crossSiteRefusal } from '../cross-site.js';
import { acceptFormBodies, formField } from '../form-body.js';
import { html, sendPage } from '../pages/html.js';
import { signInBody } from '../pages/login-form.js';
import { existingTokenBody, newTokenBody } from '../pages/token-page.js';
import { safeNext } from '../web-context.js';

export interface LoginDeps {
  accounts: AccountService;
  users: Users;
  oidc: { login: OidcLogin; users: OidcUsers } | undefined;
  passwords: PasswordLogin;
  /** Sign-in starts (OIDC) per client address; password attempts are limited inside PasswordLogin. */
  startsByAddress: RateLimiter;
  sessions: SessionCookies;
  webSessions: WebSessions;
  audit: AuditRecorder;
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

function sendProblem(reply: FastifyReply, request: FastifyRequest, error: unknown, audit: AuditRecorder): FastifyReply {
  if (!(error instanceof RegistryError) || STATUS[error.kind] === undefined) throw error;
  const status = STATUS[error.kind]!;
  if (status === 503) request.log.warn({ err: error }, 'sign-in failed');
  audit.record('login-failed', auditSource(request), { detail: error.message });
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return sendPage(reply, status, TITLES[status]!, html`<p class="refusal" id="problem">${error.message}</p>
<p><a href="/sign-in">Start again</a></p>`);
}

/** A top-level page load, as opposed to an image, script or frame the browser fetches by itself. */
function isNavigation(request: FastifyRequest): boolean {
  const dest = request.headers['sec-fetch-dest'];
  return dest === undefined || dest === 'document';
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

  const problem = (reply: FastifyReply, request: FastifyRequest, error: unknown) => sendProblem(reply, request, error, deps.audit);

  /** The end of every sign-in: a browser session, then the page the sign-in was for. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply, user: User, flow: LoginFlow, method: string): Promise<FastifyReply> {
    deps.audit.record('login', auditSource(request), { login: user.login, detail: `${method}, for ${flow.purpose}` });
    reply.header('set-cookie', [deps.sessions.clear(), await deps.webSessions.start(user.login)]);
    if (flow.purpose === 'web') return reply.header('cache-control', 'no-store').redirect(safeNext(flow.next), 303);
    const result = await deps.accounts.loginToken(user.login, flow.purpose === 'replace');
    const common = { login: user.login, registryName: deps.registryName, indexUrl: urls().index, replaceUrl: urls().replace };
    if ('existing' in result) {
      return sendPage(reply, 200, 'You have a cargo token', existingTokenBody({ ...common, createdAt: result.existing.createdAt }));
    }
    return sendPage(reply, 200, 'Your cargo token', newTokenBody({ ...common, token: result.token, replaced: result.replaced }));
  }

  /**
   * The sign-in page: the local form (when local users have passwords) and the provider's button.
   * Only a page the user navigates to starts a flow (its cookie): a browser's own fetch, such as
   * /favicon.ico redirected here, must not replace the flow of the form the user is filling in.
   */
  async function signInPage(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: { purpose: LoginPurpose; next?: string },
    options: { status?: number; problem?: string; oidc?: boolean } = {},
  ): Promise<FastifyReply> {
    const passwords = await deps.users.anyPasswordSet();
    const csrf = randomBytes(24).toString('base64url');
    if (isNavigation(request)) reply.header('set-cookie', await deps.sessions.seal({ ...flow, csrf }));
    const oidcStart =
      deps.oidc && options.oidc !== false
        ? `/me/oidc?${new URLSearchParams({ purpose: flow.purpose, ...(flow.next ? { next: flow.next } : {}) }).toString()}`
        : undefined;
    return sendPage(reply, options.status ?? 200, 'Sign in', signInBody({ purpose: flow.purpose, csrf, passwords, oidcStart, problem: options.problem }));
  }

  async function startOidc(request: FastifyRequest, reply: FastifyReply, flow: { purpose: LoginPurpose; next?: string }): Promise<FastifyReply> {
    try {
      if (!deps.oidc) throw invalid('oidc-not-configured', 'this registry has no OpenID provider configured');
      deps.startsByAddress.take(request.ip);
      const { url, flow: oidcFlow } = await deps.oidc.login.begin(deps.oidc.login.callbackUrl(deps.publicUrl()));
      reply.header('set-cookie', await deps.sessions.seal({ ...flow, ...oidcFlow }));
      return reply.header('cache-control', 'no-store').redirect(url, 302);
    } catch (error) {
      return problem(reply, request, error);
    }
  }

  /** Starts a sign-in for a cargo token; undefined when there is no way to sign in here (me.ts explains then). */
  async function signIn(request: FastifyRequest, reply: FastifyReply, purpose: LoginPurpose): Promise<FastifyReply | undefined> {
    if (deps.oidc) return startOidc(request, reply, { purpose });
    if (await deps.users.anyPasswordSet()) return signInPage(request, reply, { purpose });
    return undefined;
  }

  const purposeOf = (query: unknown): LoginPurpose => {
    const purpose = (query as { purpose?: string }).purpose;
    return purpose === 'replace' || purpose === 'web' ? purpose : 'token';
  };

  app.get('/sign-in', async (request, reply) => signInPage(request, reply, { purpose: 'web', next: safeNext((request.query as { next?: string }).next) }));

  app.get('/me/oidc', async (request, reply) =>
    startOidc(request, reply, { purpose: purposeOf(request.query), next: safeNext((request.query as { next?: string }).next) }),
  );

  app.get('/me/replace_token', async (request, reply) => (await signIn(request, reply, 'replace')) ?? reply.redirect('/me', 302));

  app.get('/me/local', async (request, reply) => {
    if (!(await deps.users.anyPasswordSet())) return reply.redirect('/me', 302);
    return signInPage(request, reply, { purpose: purposeOf(request.query) }, { oidc: false });
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
      return await signedIn(request, reply, user, flow, 'OpenID Connect');
    } catch (error) {
      reply.header('set-cookie', deps.sessions.clear());
      return problem(reply, request, error);
    }
  });

  acceptFormBodies(app);

  /** The flow a sign-in form belongs to, when it comes from this registry's pages and its CSRF token matches the cookie's. */
  async function formFlow(request: FastifyRequest): Promise<LoginFlow> {
    const crossSite = crossSiteRefusal(request.headers, new URL(deps.publicUrl()).origin);
    if (crossSite) throw crossSite;
    const flow = await deps.sessions.unseal(request.headers.cookie);
    if (!flow?.csrf || !sameText(flow.csrf, formField(request.body, 'csrf'))) {
      throw invalid('csrf', 'the form expired or did not come from this registry; start again at /sign-in');
    }
    return flow;
  }

  app.post('/me/token-sign-in', async (request, reply) => {
    try {
      const flow = await formFlow(request);
      const user = await deps.webSessions.userOfToken(formField(request.body, 'token'), request.ip);
      return await signedIn(request, reply, user, { ...flow, purpose: 'web' }, 'token');
    } catch (error) {
      return problem(reply, request, error);
    }
  });

  app.post('/me/login', async (request, reply) => {
    let flow: LoginFlow;
    try {
      flow = await formFlow(request);
    } catch (error) {
      return problem(reply, request, error);
    }
    const login = formField(request.body, 'login');
    try {
      const user = await deps.passwords.verify(login, formField(request.body, 'password'), request.ip);
      request.log.info({ login: user.login }, 'signed in with a password');
      return await signedIn(request, reply, user, flow, 'password');
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'wrong-password') {
        deps.audit.record('login-failed', auditSource(request), { login: login.slice(0, 64), detail: error.message });
        return signInPage(request, reply, flow, { status: 401, problem: error.message });
      }
      return problem(reply, request, error);
    }
  });

  return { signIn };
}
