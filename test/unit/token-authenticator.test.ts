// TokenAuthenticator against a real SQLite store, with an injected clock and a count of the store
// lookups: malformed tokens cost no lookup, unknown ones one lookup per few seconds, valid ones one
// lookup and then none, a revoked token stops working once the change reaches the cache, an expired
// one is refused even from the cache, and the failed-check limit answers 429 for wrong tokens only.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { countFailedCheck, TokenAuthenticator, type AuthOutcome } from '../../src/auth/token-authenticator.js';
import { generateToken, hashToken } from '../../src/domain/token.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { RateLimiter } from '../../src/lib/rate-limiter.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const START = Date.parse('2030-01-01T00:00:00Z');

describe('TokenAuthenticator', () => {
  let store: MetadataDatabase;
  let userId: number;
  let lookups = 0;
  let failUseWrites = false;
  /** The store, counting principal lookups and able to fail last-use writes. */
  let counted: MetadataDatabase['tokens'];
  let clock = START;
  const now = () => clock;

  before(async () => {
    store = await openSqliteDatabase(join(makeTempDir('cratekeeper-token-auth-'), 'metadata.sqlite'));
    userId = (await store.users.createUser('alice', false)).id;
    counted = Object.create(store.tokens, {
      findPrincipalByTokenHash: { value: (hash: string) => (lookups++, store.tokens.findPrincipalByTokenHash(hash)) },
      recordTokenUse: {
        value: (used: ReadonlyMap<number, string>) =>
          failUseWrites ? Promise.reject(new Error('database down')) : store.tokens.recordTokenUse(used),
      },
    }) as MetadataDatabase['tokens'];
  });
  after(() => store.close());

  async function newToken(expiresAt: string | null = null): Promise<{ token: string; id: number }> {
    const token = generateToken();
    const record = await store.tokens.insertToken({ userId, name: `t${Math.random()}`, hash: hashToken(token), expiresAt });
    return { token, id: record.id };
  }

  function fresh(): TokenAuthenticator {
    clock = START;
    lookups = 0;
    return new TokenAuthenticator(counted, now);
  }

  const rejected = (outcome: AuthOutcome) => (outcome.status === 'rejected' ? outcome : assert.fail(`not rejected: ${outcome.status}`));

  it('no token, or an empty header, is missing (not rejected)', async () => {
    const auth = fresh();
    assert.deepEqual(await auth.authenticate(undefined), { status: 'missing' });
    assert.deepEqual(await auth.authenticate('   '), { status: 'missing' });
    assert.equal(lookups, 0);
  });

  it('refuses malformed tokens from memory, without a lookup', async () => {
    const auth = fresh();
    const good = generateToken();
    const flipped = good.slice(0, 10) + (good[10] === 'a' ? 'b' : 'a') + good.slice(11);
    for (const header of ['cio-token', 'Bearer x', good + 'x', flipped, `ckt_${'!'.repeat(49)}`]) {
      assert.equal(rejected(auth.authenticateFromCache(header)!).cause, 'malformed', header);
      assert.equal(rejected(await auth.authenticate(header, '10.0.0.1')).cause, 'malformed', header);
    }
    assert.equal(lookups, 0);
  });

  it('looks an unknown well-formed token up once, then refuses it from memory for a few seconds', async () => {
    const auth = fresh();
    const stranger = generateToken();
    assert.equal(auth.authenticateFromCache(stranger), undefined, 'needs a lookup');
    assert.equal(rejected(await auth.authenticate(stranger)).cause, 'unknown');
    assert.equal(lookups, 1);
    clock += 4_000;
    assert.equal(rejected(auth.authenticateFromCache(stranger)!).cause, 'unknown');
    assert.equal(rejected(await auth.authenticate(stranger)).cause, 'unknown');
    assert.equal(lookups, 1);
    clock += 2_000;
    assert.equal(rejected(await auth.authenticate(stranger)).cause, 'unknown');
    assert.equal(lookups, 2, 'looked up again once the negative entry expired');
  });

  it('a token unknown a moment ago works as soon as the negative entry expires', async () => {
    const auth = fresh();
    const token = generateToken();
    assert.equal(rejected(await auth.authenticate(token)).cause, 'unknown');
    await store.tokens.insertToken({ userId, name: 'late', hash: hashToken(token), expiresAt: null });
    clock += 5_001;
    assert.equal((await auth.authenticate(token)).status, 'ok');
  });

  it('accepts a valid token with or without `Bearer`, then answers from the cache without a lookup', async () => {
    const auth = fresh();
    const { token, id } = await newToken();
    const outcome = await auth.authenticate(token);
    assert.equal(outcome.status, 'ok');
    assert.equal(outcome.status === 'ok' && outcome.principal.tokenId, id);
    assert.equal(outcome.status === 'ok' && outcome.principal.login, 'alice');
    assert.equal(lookups, 1);
    assert.equal(auth.authenticateFromCache(`Bearer ${token}`)?.status, 'ok');
    assert.equal((await auth.authenticate(`  bearer   ${token} `)).status, 'ok');
    assert.equal(lookups, 1);
  });

  it('concurrent requests with the same uncached token share one lookup', async () => {
    const auth = fresh();
    const { token } = await newToken();
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => auth.authenticate(token, `10.0.0.${i}`)));
    assert.ok(outcomes.every((o) => o.status === 'ok'));
    assert.equal(lookups, 1);
  });

  it('a revoked token is refused once its revocation reaches the cache (forgetTokenHash)', async () => {
    const auth = fresh();
    const { token, id } = await newToken();
    assert.equal((await auth.authenticate(token)).status, 'ok');
    assert.ok(await store.tokens.revokeToken(id));
    auth.forgetTokenHash(hashToken(token));
    assert.equal(auth.authenticateFromCache(token), undefined, 'no longer cached');
    assert.equal(rejected(await auth.authenticate(token)).cause, 'unknown');
  });

  it('a change forgotten while the token was being read is not undone by caching that read', async () => {
    // The change feed can forget a revocation (or a disabled user) between the lookup's read and
    // its caching: the read is made again, and what it answers is what the change left.
    const cases = [
      {
        change: async (id: number, auth: TokenAuthenticator, token: string) => {
          assert.ok(await store.tokens.revokeToken(id));
          auth.forgetTokenHash(hashToken(token));
        },
        cause: 'unknown',
      },
      {
        change: async (_id: number, auth: TokenAuthenticator) => {
          assert.ok(await store.users.setDisabled(userId, true));
          auth.forgetUser(userId);
        },
        cause: 'disabled',
      },
    ];
    try {
      for (const { change, cause } of cases) {
        const { token, id } = await newToken();
        let reads = 0;
        let releaseFirstRead!: () => void;
        const firstReadHeld = new Promise<void>((resolve) => (releaseFirstRead = resolve));
        const auth = new TokenAuthenticator(
          Object.create(store.tokens, {
            findPrincipalByTokenHash: {
              value: async (hash: string) => {
                const principal = await store.tokens.findPrincipalByTokenHash(hash);
                if (++reads === 1) await firstReadHeld;
                return principal;
              },
            },
          }) as MetadataDatabase['tokens'],
          now,
        );
        const outcome = auth.authenticate(token);
        while (reads === 0) await new Promise((resolve) => setImmediate(resolve));
        await change(id, auth, token);
        releaseFirstRead();
        assert.equal(rejected(await outcome).cause, cause);
        assert.equal(reads, 2, 'read again');
        assert.notEqual(auth.authenticateFromCache(token)?.status, 'ok', 'the first read is not cached');
      }
    } finally {
      await store.users.setDisabled(userId, false);
    }
  });

  it("a connection's repeated header is answered as the cache answers it, and follows every change", async () => {
    // The memo by connection spares the hash of a header the connection sent before; it must
    // never answer what the cache would not: another header, a revocation, a disabled user, the
    // safety net and expiry all reach it.
    const auth = fresh();
    const expiresAt = new Date(START + 10 * 60_000).toISOString();
    const [a, b] = [await newToken(expiresAt), await newToken()];
    await auth.authenticate(a.token);
    await auth.authenticate(b.token);
    const connection = {};
    const principalOf = (outcome: AuthOutcome | undefined) => (outcome?.status === 'ok' ? outcome.principal.tokenId : outcome?.status);
    assert.equal(principalOf(auth.authenticateFromCache(a.token, connection)), a.id);
    assert.equal(principalOf(auth.authenticateFromCache(a.token, connection)), a.id, 'from the memo');
    assert.equal(principalOf(auth.authenticateFromCache(b.token, connection)), b.id, 'another header on the same connection');
    assert.equal(principalOf(auth.authenticateFromCache(`Bearer ${b.token}`, connection)), b.id);
    assert.equal(auth.authenticateFromCache(undefined, connection)?.status, 'missing');
    assert.equal(principalOf(auth.authenticateFromCache(a.token, connection)), a.id);

    assert.ok(await store.tokens.revokeToken(a.id));
    auth.forgetTokenHash(hashToken(a.token));
    assert.equal(auth.authenticateFromCache(a.token, connection), undefined, 'revoked: no longer decided from memory');
    assert.equal(rejected(await auth.authenticate(a.token)).cause, 'unknown');

    assert.equal(principalOf(auth.authenticateFromCache(b.token, connection)), b.id);
    try {
      assert.ok(await store.users.setDisabled(userId, true));
      auth.forgetUser(userId);
      assert.equal(auth.authenticateFromCache(b.token, connection), undefined, 'user disabled: no longer decided from memory');
    } finally {
      await store.users.setDisabled(userId, false);
    }

    const c = await newToken(new Date(START + 60_000).toISOString());
    await auth.authenticate(c.token);
    assert.equal(principalOf(auth.authenticateFromCache(c.token, connection)), c.id);
    clock = START + 60_000;
    assert.equal(rejected(auth.authenticateFromCache(c.token, connection)!).cause, 'expired', 'expiry reaches the memo');
    clock = START;
    assert.equal((await auth.authenticate(b.token)).status, 'ok', 'read again once the user is enabled');
    assert.equal(principalOf(auth.authenticateFromCache(b.token, connection)), b.id);
    await store.tokens.revokeToken(b.id);
    clock += 5 * 60_000;
    assert.equal(principalOf(auth.authenticateFromCache(b.token, connection)), b.id, 'within the safety net');
    clock += 1;
    assert.equal(auth.authenticateFromCache(b.token, connection), undefined, 'past the safety net: looked up again');
    assert.equal(rejected(await auth.authenticate(b.token)).cause, 'unknown');
  });

  it('forgetUser drops every cached token of that user', async () => {
    const auth = fresh();
    const [a, b] = [await newToken(), await newToken()];
    await auth.authenticate(a.token);
    await auth.authenticate(b.token);
    auth.forgetUser(userId + 1000);
    assert.equal(auth.authenticateFromCache(a.token)?.status, 'ok', "another user's change leaves it");
    auth.forgetUser(userId);
    assert.equal(auth.authenticateFromCache(a.token), undefined);
    assert.equal(auth.authenticateFromCache(b.token), undefined);
  });

  it('a cached principal is looked up again after five minutes, so a missed revocation does not last', async () => {
    const auth = fresh();
    const { token, id } = await newToken();
    await auth.authenticate(token);
    await store.tokens.revokeToken(id);
    clock += 5 * 60_000;
    assert.equal(auth.authenticateFromCache(token)?.status, 'ok', 'still within the safety net');
    clock += 1;
    assert.equal(rejected(await auth.authenticate(token)).cause, 'unknown');
  });

  it('refuses an expired token, also from the cache, saying when it expired', async () => {
    const auth = fresh();
    const expiresAt = new Date(START + 60_000).toISOString();
    const { token } = await newToken(expiresAt);
    assert.equal((await auth.authenticate(token)).status, 'ok');
    clock = START + 60_000;
    const fromCache = rejected(auth.authenticateFromCache(token)!);
    assert.equal(fromCache.cause, 'expired');
    assert.equal(fromCache.reason, `the token expired at ${expiresAt}`);
    const late = new TokenAuthenticator(counted, now);
    assert.equal(rejected(await late.authenticate(token)).cause, 'expired', 'expired on first sight too');
  });

  it('writes last-used times in a batch, and keeps them for the next write when one fails', async () => {
    const auth = fresh();
    const { token, id } = await newToken();
    await auth.authenticate(token);
    failUseWrites = true;
    await assert.rejects(auth.flushLastUse(), /database down/);
    failUseWrites = false;
    await auth.flushLastUse();
    const stored = (await store.tokens.listTokens(userId)).find((t) => t.id === id)!;
    assert.equal(stored.lastUsedAt, new Date(START).toISOString());
  });

  it('the failed-check limit: wrong tokens count, malformed ones do not, and only wrong tokens get 429', async () => {
    const auth = fresh();
    const limiter = new RateLimiter(2, 'failed token checks', now);
    const address = '192.0.2.7';
    const check = async (header: string) => {
      const outcome = await auth.authenticate(header, address);
      return outcome.status === 'rejected' ? countFailedCheck(limiter, address, outcome) : outcome.status;
    };
    for (let i = 0; i < 10; i++) assert.equal(await check('not-a-token'), undefined, 'malformed: not counted');
    assert.equal(limiter.refusal(address), undefined);
    assert.equal(await check(generateToken()), undefined);
    assert.equal(await check(generateToken()), undefined);
    const refusal = await check(generateToken());
    assert.ok(refusal instanceof Error);
    assert.equal(refusal.kind, 'rate-limited');
    assert.match(
      refusal.message,
      /^token rejected: the token is unknown or revoked; and too many failed token checks; try again in \d+ s$/,
    );
    assert.ok(refusal.retryAfterSeconds! > 0);
    // The address is over its limit, yet a valid token from it is accepted.
    const { token } = await newToken();
    assert.equal(await check(token), 'ok');
    assert.equal(await check('not-a-token'), undefined, 'malformed: refused as such, not as rate-limited');
  });
});
