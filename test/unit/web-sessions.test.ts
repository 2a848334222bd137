// WebSessions against a real SQLite store: a session is a token of origin `web-session` carried in
// an HTTP-only cookie; only such a token is a session (a cargo token planted as a cookie is not),
// signing out revokes it, an expired one is nobody, signing in with a token needs an unrestricted
// cargo token, failed sign-ins count against the caller's address and never refuse a valid token,
// and CSRF tokens belong to one session.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { TokenAuthenticator } from '../../src/auth/token-authenticator.js';
import { SESSION_COOKIE, WEB_SESSION_ORIGIN, WebSessions } from '../../src/auth/web-sessions.js';
import { RegistryError } from '../../src/domain/errors.js';
import { generateToken } from '../../src/domain/token.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import type { TokenPrincipal } from '../../src/ports/tokens.js';
import type { User } from '../../src/ports/users.js';
import { AccountService } from '../../src/services/accounts.js';
import { RateLimiter } from '../../src/lib/rate-limiter.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

/** Read once: the sessions' expiry comes from the real clock, every check here from this fixed one. */
const T0 = Date.now();

describe('WebSessions', () => {
  let store: MetadataDatabase;
  let accounts: AccountService;
  let alice: User;
  let clock = T0;
  let auth: TokenAuthenticator;
  let limiter: RateLimiter;
  let sessions: WebSessions;

  before(async () => {
    store = await openSqliteDatabase(join(makeTempDir('cratekeeper-web-sessions-'), 'metadata.sqlite'));
    // Own writes reach the cache at once, as the change feed would make them.
    accounts = new AccountService(store, async () => auth.forgetUser(alice.id));
    alice = await accounts.addUser('alice', false);
  });
  after(() => store.close());

  function fresh(publicUrl = 'http://registry.test:8080/'): void {
    clock = T0;
    auth = new TokenAuthenticator(store.tokens, () => clock);
    limiter = new RateLimiter(2, 'failed token checks', () => clock);
    sessions = new WebSessions(store.secrets, accounts, auth, limiter, () => publicUrl);
  }

  const tokenOf = (setCookie: string) => setCookie.slice(`${SESSION_COOKIE}=`.length, setCookie.indexOf(';'));

  async function signedIn(): Promise<{ cookie: string; principal: TokenPrincipal }> {
    const cookie = `${SESSION_COOKIE}=${tokenOf(await sessions.start('alice'))}`;
    return { cookie, principal: (await sessions.principal(`theme=dark; ${cookie}`, '10.0.0.1'))! };
  }

  async function refusal(promise: Promise<unknown>): Promise<RegistryError> {
    try {
      await promise;
    } catch (error) {
      assert.ok(error instanceof RegistryError, String(error));
      return error;
    }
    return assert.fail('expected a refusal');
  }

  it('start sets an HTTP-only session cookie for the whole site, Secure over https', async () => {
    fresh();
    assert.match(await sessions.start('alice'), /^ck_session=ckt_[0-9A-Za-z]{49}; Path=\/; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    fresh('https://registry.test/');
    assert.match(await sessions.start('alice'), /; SameSite=Lax; Secure$/);
    assert.equal(sessions.clear(), 'ck_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure');
    assert.equal(sessions.ownOrigin(), 'https://registry.test');
  });

  it('the session cookie names its user, through a token of origin web-session that expires in 12 hours', async () => {
    fresh();
    const { principal } = await signedIn();
    assert.equal(principal.login, 'alice');
    assert.equal(principal.origin, WEB_SESSION_ORIGIN);
    assert.ok(Math.abs(Date.parse(principal.expiresAt!) - T0 - 12 * 3_600_000) < 3_600_000);
  });

  it('no cookie, a garbage cookie, or a cargo token planted as the cookie is nobody', async () => {
    fresh();
    assert.equal(await sessions.principal(undefined, '10.0.0.1'), null);
    assert.equal(await sessions.principal('other=1', '10.0.0.1'), null);
    assert.equal(await sessions.principal(`${SESSION_COOKIE}=nonsense`, '10.0.0.1'), null);
    assert.equal(await sessions.principal(`${SESSION_COOKIE}=${generateToken()}`, '10.0.0.1'), null);
    const { token } = await accounts.createToken('alice', 'cargo');
    assert.equal(await sessions.principal(`${SESSION_COOKIE}=${token}`, '10.0.0.1'), null);
  });

  it('signing out revokes the session: the same cookie is nobody afterwards', async () => {
    fresh();
    const { cookie, principal } = await signedIn();
    assert.match(await sessions.end(principal), /^ck_session=; Path=\/; Max-Age=0/);
    assert.equal(await sessions.principal(cookie, '10.0.0.1'), null);
    assert.ok((await store.tokens.listTokens(alice.id)).find((t) => t.id === principal.tokenId)?.revokedAt);
  });

  it('signing out with a cargo token revokes nothing', async () => {
    fresh();
    const { token, record } = await accounts.createToken('alice', 'cargo');
    const outcome = await auth.authenticate(token);
    assert.equal(outcome.status, 'ok');
    await sessions.end(outcome.status === 'ok' ? outcome.principal : null);
    assert.equal((await auth.authenticate(token)).status, 'ok');
    assert.equal((await store.tokens.listTokens(alice.id)).find((t) => t.id === record.id)?.revokedAt, null);
  });

  it('an expired session is nobody', async () => {
    fresh();
    const { cookie } = await signedIn();
    clock = T0 + 13 * 3_600_000;
    assert.equal(await sessions.principal(cookie, '10.0.0.1'), null);
  });

  it('signing in with a token needs an unrestricted cargo token', async () => {
    fresh();
    const { token } = await accounts.createToken('alice', 'full');
    assert.deepEqual(await sessions.userOfToken(`  ${token}\n`, '10.0.0.2'), {
      id: alice.id,
      login: 'alice',
      isAdmin: false,
      createdAt: '',
    });
    const scoped = await accounts.createToken('alice', 'read only', { scopes: ['read'] });
    assert.equal((await refusal(sessions.userOfToken(scoped.token, '10.0.0.2'))).code, 'token-too-narrow');
    const patterned = await accounts.createToken('alice', 'ci', { cratePatterns: ['foo-*'] });
    assert.equal((await refusal(sessions.userOfToken(patterned.token, '10.0.0.2'))).code, 'token-too-narrow');
    const session = tokenOf(await sessions.start('alice'));
    const asSession = await refusal(sessions.userOfToken(session, '10.0.0.2'));
    assert.equal(asSession.kind, 'unauthenticated');
    assert.match(asSession.message, /a browser session is not a token/);
    assert.match((await refusal(sessions.userOfToken(' ', '10.0.0.2'))).message, /enter a token/);
    assert.match(
      (await refusal(sessions.userOfToken(generateToken(), '10.0.0.2'))).message,
      /token rejected: the token is unknown or revoked/,
    );
  });

  it("wrong tokens count against the caller's address: 429 there, never for a valid token, and not elsewhere", async () => {
    fresh();
    const { token } = await accounts.createToken('alice', 'full');
    for (let i = 0; i < 2; i++) assert.equal((await refusal(sessions.userOfToken(generateToken(), '203.0.113.5'))).kind, 'unauthenticated');
    const limited = await refusal(sessions.userOfToken(generateToken(), '203.0.113.5'));
    assert.equal(limited.kind, 'rate-limited');
    assert.ok(limited.retryAfterSeconds! > 0);
    assert.equal((await sessions.userOfToken(token, '203.0.113.5')).login, 'alice');
    assert.equal((await refusal(sessions.userOfToken(generateToken(), '203.0.113.6'))).kind, 'unauthenticated', 'another address');
  });

  it('a CSRF token belongs to one session', async () => {
    fresh();
    const [a, b] = [(await signedIn()).principal, (await signedIn()).principal];
    const csrf = await sessions.csrfToken(a);
    assert.equal(await sessions.csrfMatches(a, csrf), true);
    assert.equal(await sessions.csrfMatches(b, csrf), false);
    assert.equal(await sessions.csrfMatches(a, csrf.slice(0, -1)), false);
    assert.equal(await sessions.csrfMatches(a, [csrf]), false);
    assert.equal(await sessions.csrfMatches(a, undefined), false);
    fresh();
    assert.equal(await sessions.csrfMatches(a, csrf), true, 'the key is in the database: another process agrees');
  });
});
