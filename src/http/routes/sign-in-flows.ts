// The steps every sign-in shares, whichever route it starts or ends on: the sign-in page (local
// form and provider button), the start at the OpenID provider, the check of a posted form against
// its flow cookie, and the end (a browser session, then the page the sign-in was for: back where
// the visitor came from, or a page with their cargo token). Routes: sign-in-pages.ts,
// oidc-callback.ts, sign-in-forms.ts and me.ts. Refusals on those routes are sign-in pages
// (`signInErrors` in error-mapper.ts); sign-ins and failed ones are audited.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { OidcLogin } from '../../auth/oidc-client.js';
import type { OidcUsers } from '../../auth/oidc-users.js';
import type { PasswordLogin } from '../../auth/password.js';
import type { LoginFlow, LoginPurpose, SessionCookies } from '../../auth/session-cookie.js';
import type { WebSessions } from '../../auth/web-sessions.js';
import { forbidden, invalid } from '../../domain/errors.js';
import type { RateLimiter } from '../../lib/rate-limiter.js';
import type { User, Users } from '../../ports/users.js';
import type { AccountService } from '../../services/accounts.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import { auditSource } from '../audit-source.js';
import { crossSiteRefusal } from '../cross-site.js';
import { formField } from '../form-body.js';
import { sendPage } from '../pages/html.js';
import { signInBody } from '../pages/login-form.js';
import { existingTokenBody, newTokenBody } from '../pages/token-page.js';
import { safeNext } from '../schemas/sign-in-query.js';
import { addressKey } from '../../lib/address-key.js';

export interface SignInDeps {
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
  /** Keeps the provider refresh token of a sign-in made to approve a device, under its browser session. */
  keepProviderGrant?: (sessionTokenId: number, userId: number, refreshToken: string) => Promise<void>;
}

/** A sign-in on its way to approve a device (/device): it asks the provider for a refresh token. */
export const isForDevice = (next: string | undefined) => next !== undefined && /^\/device([?/]|$)/.test(next);

/** What a sign-in is for, and where a web sign-in returns. */
export type FlowStart = { purpose: LoginPurpose; next?: string };

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

export class SignInFlows {
  constructor(readonly deps: SignInDeps) {}

  private urls() {
    const base = this.deps.publicUrl();
    return { index: `${base}/index/`, replace: `${base}/me/replace_token` };
  }

  /** The end of every sign-in: a browser session, then the page the sign-in was for. */
  async signedIn(
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    flow: LoginFlow,
    method: string,
    providerRefreshToken?: string,
  ): Promise<FastifyReply> {
    const { deps } = this;
    if (await deps.users.isDisabled(user.id)) {
      deps.audit.record('login-failed', auditSource(request), { login: user.login, detail: `${method}: account disabled` });
      throw forbidden('account-disabled', `the account ${user.login} is disabled; ask an administrator`);
    }
    deps.audit.record('login', auditSource(request), { login: user.login, detail: `${method}, for ${flow.purpose}` });
    const session = await deps.webSessions.startSession(user.login);
    reply.header('set-cookie', [deps.sessions.clear(), session.cookie]);
    if (providerRefreshToken !== undefined && isForDevice(flow.next)) {
      await deps.keepProviderGrant?.(session.tokenId, user.id, providerRefreshToken);
    }
    if (flow.purpose === 'web') return reply.header('cache-control', 'no-store').redirect(safeNext(flow.next), 303);
    const result = await deps.accounts.loginToken(user.login, flow.purpose === 'replace');
    const urls = this.urls();
    const common = { login: user.login, registryName: deps.registryName, indexUrl: urls.index, replaceUrl: urls.replace };
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
  async signInPage(
    request: FastifyRequest,
    reply: FastifyReply,
    flow: FlowStart,
    options: { status?: number; problem?: string; oidc?: boolean } = {},
  ): Promise<FastifyReply> {
    const { deps } = this;
    const passwords = await deps.users.anyPasswordSet();
    const csrf = randomBytes(24).toString('base64url');
    if (isNavigation(request)) reply.header('set-cookie', await deps.sessions.seal({ ...flow, csrf }));
    const oidcStart =
      deps.oidc && options.oidc !== false
        ? `/me/oidc?${new URLSearchParams({ purpose: flow.purpose, ...(flow.next ? { next: flow.next } : {}) }).toString()}`
        : undefined;
    return sendPage(
      reply,
      options.status ?? 200,
      'Sign in',
      signInBody({ purpose: flow.purpose, csrf, passwords, oidcStart, problem: options.problem }),
    );
  }

  /** Sends the browser to the OpenID provider (its route shows a refusal as a sign-in page). */
  async startOidc(request: FastifyRequest, reply: FastifyReply, flow: FlowStart): Promise<FastifyReply> {
    const { deps } = this;
    if (!deps.oidc) throw invalid('oidc-not-configured', 'this registry has no OpenID provider configured');
    deps.startsByAddress.take(addressKey(request.ip));
    const { url, flow: oidcFlow } = await deps.oidc.login.begin(deps.oidc.login.callbackUrl(deps.publicUrl()), {
      offlineAccess: flow.purpose === 'web' && isForDevice(flow.next),
    });
    reply.header('set-cookie', await deps.sessions.seal({ ...flow, ...oidcFlow }));
    return reply.header('cache-control', 'no-store').redirect(url, 302);
  }

  /** Starts a sign-in for a cargo token; undefined when there is no way to sign in here (me.ts explains then). */
  async signIn(request: FastifyRequest, reply: FastifyReply, purpose: LoginPurpose): Promise<FastifyReply | undefined> {
    if (this.deps.oidc) return this.startOidc(request, reply, { purpose });
    if (await this.deps.users.anyPasswordSet()) return this.signInPage(request, reply, { purpose });
    return undefined;
  }

  /** The flow a sign-in form belongs to, when it comes from this registry's pages and its CSRF token matches the cookie's. */
  async formFlow(request: FastifyRequest): Promise<LoginFlow> {
    const crossSite = crossSiteRefusal(request.headers, new URL(this.deps.publicUrl()).origin);
    if (crossSite) throw crossSite;
    const flow = await this.deps.sessions.unseal(request.headers.cookie);
    if (!flow?.csrf || !sameText(flow.csrf, formField(request.body, 'csrf'))) {
      throw invalid('csrf', 'the form expired or did not come from this registry; start again at /sign-in');
    }
    return flow;
  }
}
