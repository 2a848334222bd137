// Token checks under a flood, in process: a valid token is never refused because other requests
// from its address failed (many people share an address: NAT, CI runners), not on the API when it
// is not cached yet and not in the web sign-in; malformed tokens cost no database work and count
// nowhere; well-formed unknown ones cost at most a bounded number of lookups at once.

import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { generateToken, hashToken } from '../../src/domain/token.js';
import type { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import type { TokenPrincipal } from '../../src/ports/tokens.js';
import { eventually } from '../support/eventually.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { cookieFrom, formBody, hiddenCsrf } from '../support/web-session.js';

const NAT = '203.0.113.7';

/** Wraps the store's token lookup: counts calls, and can hold them until released. */
function instrumentLookups(r: TestRegistry) {
  const store = r.registry.metadata.tokens;
  const original = store.findPrincipalByTokenHash.bind(store);
  const state = { calls: 0, running: 0, maxRunning: 0, held: false, waiting: [] as (() => void)[], order: [] as string[] };
  store.findPrincipalByTokenHash = async (hash: string): Promise<TokenPrincipal | undefined> => {
    state.calls++;
    state.order.push(hash);
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    try {
      if (state.held) await new Promise<void>((resolve) => state.waiting.push(resolve));
      return await original(hash);
    } finally {
      state.running--;
    }
  };
  return {
    state,
    hold() {
      state.held = true;
    },
    releaseAll() {
      state.held = false;
      for (const go of state.waiting.splice(0)) go();
    },
    restore() {
      store.findPrincipalByTokenHash = original;
    },
  };
}

const read = (r: TestRegistry, token: string, remoteAddress = NAT) =>
  r.request({ method: 'GET', url: '/index/config.json', token, remoteAddress });

describe('token checks under a flood', () => {
  let r: TestRegistry;
  let lookups: ReturnType<typeof instrumentLookups>;
  before(async () => {
    r = await startTestRegistry({ 'rate_limits.failed_auth_per_minute': '5' });
  });
  after(() => r.close());
  afterEach(() => lookups?.restore());

  it('malformed tokens are refused with 401 from memory: no lookup, no count, no shared write, never 429', async () => {
    lookups = instrumentLookups(r);
    // A real token with its last character changed (never to itself), so its check digits fail.
    const token = generateToken();
    const brokenChecksum = token.slice(0, -1) + (token.endsWith('x') ? 'y' : 'x');
    const garbage = ['ckt_guess', 'ckt_' + 'A'.repeat(49), brokenChecksum, 'x'.repeat(5000), 'Bearer nonsense'];
    for (let i = 0; i < 40; i++) {
      const res = await read(r, garbage[i % garbage.length]!, '198.51.100.1');
      assert.equal(res.statusCode, 401, res.body);
      assert.match(JSON.parse(res.body).errors[0].detail, /token rejected: the token is not a cratekeeper token/);
    }
    assert.equal(lookups.state.calls, 0);
    await r.registry.rateLimits.refresh();
    const rows = await (r.registry.metadata as SqlMetadataDatabase).db
      .selectFrom('rate_limit_counts')
      .selectAll()
      .where('key', '=', '198.51.100.1')
      .execute();
    assert.deepEqual(rows, []);
  });

  it('an address over its limit gets 429 for wrong tokens, yet a valid token not cached yet passes', async () => {
    lookups = instrumentLookups(r);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await read(r, generateToken())).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    const limited = await read(r, generateToken());
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    assert.match(
      JSON.parse(limited.body).errors[0].detail,
      /^token rejected: the token is unknown or revoked; and too many failed token checks from this address; try again in \d+ s$/,
    );

    // A colleague behind the same address, with a token this process has never seen.
    const colleague = await r.userToken('colleague');
    const calls = lookups.state.calls;
    assert.equal((await read(r, colleague)).statusCode, 200);
    assert.equal(lookups.state.calls, calls + 1, 'the valid token was looked up once');
    assert.equal((await read(r, colleague)).statusCode, 200);
    assert.equal(lookups.state.calls, calls + 1, 'and then answered from memory');
  });

  it('the same unknown token again costs no second lookup', async () => {
    lookups = instrumentLookups(r);
    const token = generateToken();
    for (let i = 0; i < 5; i++) await read(r, token, '198.51.100.2');
    assert.equal(lookups.state.calls, 1);
  });

  it('a flood of well-formed unknown tokens holds a bounded number of lookups at once; a valid token from another address gets its turn', async () => {
    lookups = instrumentLookups(r);
    lookups.hold();
    const flood = [
      ...Array.from({ length: 60 }, () => read(r, generateToken(), '192.0.2.1')),
      ...Array.from({ length: 60 }, () => read(r, generateToken(), '192.0.2.2')),
      ...Array.from({ length: 60 }, () => read(r, generateToken(), '192.0.2.3')),
    ];
    await eventually(() => assert.equal(lookups.state.running, 4));
    // A valid token from a fourth address arrives behind 180 flooding requests.
    const valid = await r.userToken('someone-else');
    const validRead = read(r, valid, '192.0.2.99');
    await eventually(() => assert.equal(lookups.state.waiting.length, 4));
    lookups.releaseAll();
    assert.equal((await validRead).statusCode, 200);
    // Addresses take turns: its lookup started within about one round, not after the flood.
    const position = lookups.state.order.indexOf(hashToken(valid));
    assert.ok(position >= 0 && position < 4 + 4, `the valid token's lookup was number ${position + 1} of ${lookups.state.order.length}`);
    const statuses = (await Promise.all(flood)).map((res) => res.statusCode);
    assert.ok(
      statuses.every((s) => s === 401 || s === 429),
      statuses.join(' '),
    );
    assert.equal(lookups.state.maxRunning, 4, 'lookups at once, across all addresses');
  });

  it('one address alone holds at most two lookups at once', async () => {
    lookups = instrumentLookups(r);
    lookups.hold();
    const flood = Array.from({ length: 40 }, () => read(r, generateToken(), '192.0.2.50'));
    await eventually(() => assert.equal(lookups.state.running, 2));
    lookups.releaseAll();
    await Promise.all(flood);
    assert.equal(lookups.state.maxRunning, 2);
  });

  it('the web sign-in with a valid token works from an address over its limit', async () => {
    const signIn = async (token: string) => {
      const page = await r.request({ method: 'GET', url: '/sign-in', remoteAddress: '198.51.100.77' });
      return r.request({
        method: 'POST',
        url: '/me/token-sign-in',
        remoteAddress: '198.51.100.77',
        headers: { cookie: cookieFrom(page, 'ck_login')!, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ csrf: hiddenCsrf(page.body), token }),
      });
    };
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await signIn(generateToken())).statusCode);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    const colleague = await r.userToken('web-colleague');
    const done = await signIn(colleague);
    assert.equal(done.statusCode, 303, done.body);
    assert.ok(cookieFrom(done, 'ck_session'));
  });
});
