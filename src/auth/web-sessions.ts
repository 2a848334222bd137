// Browser sessions for the web pages. A session is a token of origin `web-session` (stored, like
// every token, only as a hash) carried in an HTTP-only cookie: revocation, expiry, the in-memory
// cache and the change feed that spreads a revocation to every replica work for sessions as they
// do for cargo tokens, and signing out revokes it. A session token is accepted only from the
// cookie and a cargo token only from the Authorization header (authentication.ts), so a leaked
// cookie is not an API token and an API token cannot be planted as a cookie.
// Forms carry a CSRF token derived from the session (HMAC with a key kept in the database), so
// every replica can check it without shared memory.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { forbidden, unauthenticated } from '../domain/errors.js';
import type { ServerSecrets } from '../ports/server-secrets.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { User } from '../ports/users.js';
import type { TokenIssuer } from './token-issuer.js';
import type { RateLimiter } from '../lib/rate-limiter.js';
import { readCookie } from './session-cookie.js';
import { countFailedCheck, type AuthOutcome, type TokenAuthenticator } from './token-authenticator.js';

export const WEB_SESSION_ORIGIN = 'web-session';
export const SESSION_COOKIE = 'ck_session';
const SESSION_HOURS = 12;
const CSRF_KEY_NAME = 'csrf-key';

export const isWebSession = (principal: TokenPrincipal): boolean => principal.origin === WEB_SESSION_ORIGIN;

export class WebSessions {
  private csrfKey: Promise<Buffer> | undefined;

  constructor(
    private readonly secrets: ServerSecrets,
    private readonly accounts: TokenIssuer,
    private readonly auth: TokenAuthenticator,
    private readonly failedAuthLimiter: RateLimiter,
    /** The registry's public base URL: over https the cookie is `Secure`; its origin is where forms come from. */
    private readonly publicUrl: () => string,
  ) {}

  private secure(): boolean {
    return this.publicUrl().startsWith('https:');
  }

  /** The registry's own origin (scheme, host and port of its public URL), which its forms are posted from. */
  ownOrigin(): string {
    return new URL(this.publicUrl()).origin;
  }

  /** Starts a session for `login`; returns the Set-Cookie value. */
  async start(login: string): Promise<string> {
    return (await this.startSession(login)).cookie;
  }

  /** As `start`, with the id of the session's token (a provider grant is kept under it). */
  async startSession(login: string): Promise<{ cookie: string; tokenId: number }> {
    const expiresAt = new Date(Date.now() + SESSION_HOURS * 3_600_000);
    const { token, record } = await this.accounts.createToken(login, 'browser session', { expiresAt, origin: WEB_SESSION_ORIGIN });
    return { cookie: this.cookie(token, SESSION_HOURS * 3600), tokenId: record.id };
  }

  /**
   * The user a token speaks for, to sign in with it: only an unrestricted token (every scope, every
   * crate) will do, as a session may do all its user may. Failed checks count against the address
   * as on the API: an address over its limit gets `rate-limited` for a wrong token, never for a
   * valid one (many people may sign in from one address).
   */
  async userOfToken(token: string, address: string): Promise<User> {
    const outcome = await this.auth.authenticate(token.trim(), address);
    const refuse = (rejected: AuthOutcome & { status: 'rejected' }) =>
      countFailedCheck(this.failedAuthLimiter, address, rejected) ?? unauthenticated('token-sign-in', `token rejected: ${rejected.reason}`);
    if (outcome.status === 'missing') throw unauthenticated('token-sign-in', 'enter a token');
    if (outcome.status === 'rejected') throw refuse(outcome);
    const p = outcome.principal;
    if (isWebSession(p)) throw refuse({ status: 'rejected', reason: 'a browser session is not a token', cause: 'session' });
    if (p.scopes !== null || p.cratePatterns !== null) {
      throw forbidden('token-too-narrow', 'signing in needs a token with every scope and every crate; this one is limited');
    }
    return { id: p.userId, login: p.login, isAdmin: p.isAdmin, createdAt: '' };
  }

  /** The signed-in user of a request, or null (no cookie, or an expired, revoked or forged one). */
  async principal(cookieHeader: string | undefined, address: string): Promise<TokenPrincipal | null> {
    const token = readCookie(cookieHeader, SESSION_COOKIE);
    if (!token) return null;
    const outcome = await this.auth.authenticate(token, address);
    return outcome.status === 'ok' && isWebSession(outcome.principal) ? outcome.principal : null;
  }

  /** Ends the session (its token is revoked); returns the Set-Cookie value that removes the cookie. */
  async end(principal: TokenPrincipal | null): Promise<string> {
    if (principal && isWebSession(principal)) await this.accounts.revokeToken(principal.tokenId).catch(() => undefined);
    return this.clear();
  }

  clear(): string {
    return this.cookie('', 0);
  }

  private cookie(value: string, maxAge: number): string {
    return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${this.secure() ? '; Secure' : ''}`;
  }

  /** The CSRF token that forms of this session carry. */
  async csrfToken(principal: TokenPrincipal): Promise<string> {
    return createHmac('sha256', await this.getCsrfKey())
      .update(`csrf:${principal.tokenId}`)
      .digest('base64url');
  }

  async csrfMatches(principal: TokenPrincipal, sent: unknown): Promise<boolean> {
    if (typeof sent !== 'string') return false;
    const expected = Buffer.from(await this.csrfToken(principal));
    const actual = Buffer.from(sent);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  private getCsrfKey(): Promise<Buffer> {
    this.csrfKey ??= this.secrets
      .getOrCreateSecret(CSRF_KEY_NAME, () => randomBytes(32).toString('base64url'))
      .then((text) => Buffer.from(text, 'base64url'));
    this.csrfKey.catch(() => (this.csrfKey = undefined));
    return this.csrfKey;
  }
}
