// Token scopes and crate patterns, access rules by crate pattern, and rate limits.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateToken } from '../../src/domain/token.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

const detail = (body: string) => JSON.parse(body).errors[0].detail as string;

describe('token scopes and crate patterns', () => {
  let r: TestRegistry;
  const publish = async (token: string, name: string, version: string) =>
    r.request({ method: 'PUT', url: '/api/v1/crates/new', token, payload: await publishBodyFor(name, version) });
  const tokenFor = async (scopes?: string[], cratePatterns?: string[]) =>
    (await r.registry.accounts.createToken('admin', 'scoped', { scopes, cratePatterns })).token;

  before(async () => {
    r = await startTestRegistry();
    for (const name of ['foo-core', 'bar']) assert.equal((await publish(r.adminToken, name, '1.0.0')).statusCode, 200);
  });
  after(() => r.close());

  it('a read-only token reads but cannot publish, and the refusal names the scope', async () => {
    const readOnly = await tokenFor(['read']);
    assert.equal((await r.request({ method: 'GET', url: '/index/3/b/bar', token: readOnly })).statusCode, 200);
    const res = await publish(readOnly, 'bar', '2.0.0');
    assert.equal(res.statusCode, 403);
    // Refused before the upload is looked at: the token cannot publish anything.
    assert.equal(detail(res.body), 'this token lacks the `publish-new` and `publish-update` scopes (it has: read)');
    const fresh = await publish(readOnly, 'brand-new', '1.0.0');
    assert.match(detail(fresh.body), /lacks the `publish-new` and `publish-update` scopes/);
    const updateOnly = await tokenFor(['read', 'publish-update']);
    assert.match(
      detail((await publish(updateOnly, 'brand-new', '1.0.0')).body),
      /lacks the `publish-new` scope \(it has: read, publish-update\)/,
    );
    const newOnly = await tokenFor(['read', 'publish-new']);
    assert.match(detail((await publish(newOnly, 'bar', '2.0.0')).body), /lacks the `publish-update` scope \(it has: read, publish-new\)/);
  });

  it('a token without read cannot read the index', async () => {
    const publishOnly = await tokenFor(['publish-update']);
    const res = await r.request({ method: 'GET', url: '/index/config.json', token: publishOnly });
    assert.equal(res.statusCode, 403);
    assert.match(detail(res.body), /lacks the `read` scope \(it has: publish-update\)/);
  });

  it('a token for foo-* can publish and yank foo-core, not bar, and says why', async () => {
    const fooToken = await tokenFor(['read', 'publish-update', 'yank'], ['foo-*']);
    assert.equal((await publish(fooToken, 'foo-core', '1.1.0')).statusCode, 200);
    assert.equal((await r.request({ method: 'DELETE', url: '/api/v1/crates/foo-core/1.1.0/yank', token: fooToken })).statusCode, 200);
    const yankBar = await r.request({ method: 'DELETE', url: '/api/v1/crates/bar/1.0.0/yank', token: fooToken });
    assert.equal(yankBar.statusCode, 403);
    assert.equal(detail(yankBar.body), 'this token is limited to crates matching `foo-*`, and `bar` is not one of them');
    // Patterns limit changes, not reads: the token still sees bar.
    assert.equal((await r.request({ method: 'GET', url: '/index/3/b/bar', token: fooToken })).statusCode, 200);
  });

  it('a token cannot do more than its user: scopes do not make a stranger an owner', async () => {
    await r.registry.accounts.addUser('eve', false);
    const eve = (await r.registry.accounts.createToken('eve', 'all')).token;
    const res = await r.request({ method: 'DELETE', url: '/api/v1/crates/bar/1.0.0/yank', token: eve });
    assert.equal(res.statusCode, 403);
    assert.match(detail(res.body), /not an owner of crate `bar`/);
  });

  it('refuses bad scopes, patterns and expiry when creating tokens', async () => {
    await assert.rejects(r.registry.accounts.createToken('admin', 'x', { scopes: ['root'] }), /unknown token scope `root`/);
    await assert.rejects(r.registry.accounts.createToken('admin', 'x', { cratePatterns: ['a*b'] }), /not a crate pattern/);
    await assert.rejects(
      r.registry.accounts.createToken('admin', 'x', { expiresAt: new Date(Date.now() - 1) }),
      /must expire in the future/,
    );
  });

  it('lets the signed-in user list, create and revoke their own tokens over HTTP', async () => {
    const created = await r.request({
      method: 'POST',
      url: '/api/v1/me/tokens',
      token: r.adminToken,
      payload: {
        name: 'ci',
        scopes: ['read', 'publish-update'],
        crates: ['foo-*'],
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { token } = JSON.parse(created.body);
    assert.match(token.token, /^ckt_/);
    assert.deepEqual({ scopes: token.scopes, crates: token.crates }, { scopes: ['read', 'publish-update'], crates: ['foo-*'] });

    const listed = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/me/tokens', token: r.adminToken })).body).tokens;
    assert.ok(listed.some((t: { id: number }) => t.id === token.id));
    assert.ok(
      listed.every((t: Record<string, unknown>) => !('token' in t)),
      'a listing shows a secret',
    );

    // A narrow token may not mint tokens.
    const narrow = await r.request({ method: 'POST', url: '/api/v1/me/tokens', token: token.token, payload: { name: 'wider' } });
    assert.equal(narrow.statusCode, 403);
    assert.match(detail(narrow.body), /needs a token with every scope and every crate/);

    const bad = await r.request({
      method: 'POST',
      url: '/api/v1/me/tokens',
      token: r.adminToken,
      payload: { name: 'x', scopes: ['nope'] },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(detail(bad.body), /unknown token scope `nope`/);

    // Another user cannot revoke it; its owner can, and then it is refused.
    const eve = (await r.registry.accounts.createToken('eve', 'all')).token;
    assert.equal((await r.request({ method: 'DELETE', url: `/api/v1/me/tokens/${token.id}`, token: eve })).statusCode, 404);
    assert.equal((await r.request({ method: 'DELETE', url: `/api/v1/me/tokens/${token.id}`, token: r.adminToken })).statusCode, 200);
    // Refused at once by the process that revoked it, without waiting for a poll.
    assert.equal((await r.request({ method: 'GET', url: '/index/config.json', token: token.token })).statusCode, 401);
  });

  it('tells any token, however narrow, its own scopes, crates and expiry, and nothing to a stranger', async () => {
    const expiresAt = new Date(Date.now() + 3 * 86_400_000);
    const narrow = await r.registry.accounts.createToken('admin', 'ci-narrow', { scopes: ['read'], cratePatterns: ['foo-*'], expiresAt });
    const res = await r.request({ method: 'GET', url: '/api/v1/me/token', token: narrow.token });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), {
      user: 'admin',
      id: narrow.record.id,
      name: 'ci-narrow',
      expires_at: expiresAt.toISOString(),
      scopes: ['read'],
      crates: ['foo-*'],
    });
    const full = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/me/token', token: r.adminToken })).body);
    assert.deepEqual(
      { expires_at: full.expires_at, scopes: full.scopes, crates: full.crates },
      { expires_at: null, scopes: null, crates: null },
    );
    const anonymous = await r.request({ method: 'GET', url: '/api/v1/me/token' });
    assert.equal(anonymous.statusCode, 401);
    assert.ok(!anonymous.body.includes('ci-narrow'));
  });
});

describe('access rules', () => {
  let r: TestRegistry;
  let alice: string; // in group core
  let bob: string; // in no group
  let lead: string; // crate admin for secret*
  before(async () => {
    r = await startTestRegistry(
      {},
      `[[access.rules]]
crates = ["secret*"]
read = ["group:core"]
publish = ["group:core"]
admins = ["lead"]

[[access.rules]]
crates = ["internal-*"]
publish = ["alice"]
`,
    );
    alice = await r.userToken('alice');
    bob = await r.userToken('bob');
    lead = await r.userToken('lead');
    await r.registry.accounts.addGroupMember('core', 'alice');
    for (const name of ['secret', 'secret-sauce']) {
      const res = await r.request({
        method: 'PUT',
        url: '/api/v1/crates/new',
        token: alice,
        payload: await publishBodyFor(name, '1.0.0', { description: 'hidden thing' }),
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: bob,
      payload: await publishBodyFor('public-thing', '1.0.0', { description: 'a thing' }),
    });
  });
  after(() => r.close());

  it('answers a reader without access exactly as for a crate that does not exist', async () => {
    const seen = await r.request({ method: 'GET', url: '/index/se/cr/secret', token: alice });
    assert.equal(seen.statusCode, 200);
    for (const url of ['/index/se/cr/secret', '/api/v1/crates/secret/1.0.0/download', '/api/v1/crates/secret/owners']) {
      const hidden = await r.request({ method: 'GET', url, token: bob });
      const missing = await r.request({ method: 'GET', url: url.replace(/secret/g, 'secrex'), token: bob });
      assert.equal(hidden.statusCode, 404, url);
      assert.equal(missing.statusCode, 404, url);
      assert.equal(detail(hidden.body).replace(/secret/g, 'secrex'), detail(missing.body), `the refusal leaks the name: ${url}`);
    }
  });

  it('looks a hidden crate up as a missing one, so that the time of its 404 tells nothing', async () => {
    const { crates, catalog } = { crates: r.registry.metadata.crates, catalog: r.registry.catalog };
    const { findVersionBlob, findCrateName } = crates;
    const { crate, existingCrates } = catalog;
    const lookups: string[] = [];
    crates.findVersionBlob = (...args) => (lookups.push('version'), findVersionBlob.apply(crates, args));
    crates.findCrateName = (...args) => (lookups.push('name'), findCrateName.apply(crates, args));
    catalog.crate = (...args) => (lookups.push('crate with its versions'), crate.apply(catalog, args));
    catalog.existingCrates = (...args) => (lookups.push('crate names'), existingCrates.apply(catalog, args));
    const lookupsOf = async (url: string, token = bob) => {
      lookups.length = 0;
      const status = (await r.request({ method: 'GET', url, token })).statusCode;
      return { status, lookups: [...lookups] };
    };
    const bobAsViewer = await r.registry.auth.authenticate(bob);
    assert.equal(bobAsViewer.status, 'ok');
    const pageLookupsOf = async (name: string) => {
      lookups.length = 0;
      await assert.rejects(r.registry.cratePages.view(bobAsViewer.status === 'ok' ? bobAsViewer.principal : null, name), /no crate/);
      return [...lookups];
    };
    try {
      for (const url of ['/api/v1/crates/secret/1.0.0/download', '/api/v1/crates/secret', '/api/v1/crates/secret/owners']) {
        const missing = await lookupsOf(url.replace('secret', 'secrex'));
        assert.equal(missing.status, 404, url);
        assert.ok(missing.lookups.length > 0, url);
        assert.deepEqual(await lookupsOf(url), missing, url);
      }
      // Also once a reader's download has put the version in the download cache.
      assert.equal((await lookupsOf('/api/v1/crates/secret/1.0.0/download', alice)).status, 200);
      assert.deepEqual(await lookupsOf('/api/v1/crates/secret/1.0.0/download'), await lookupsOf('/api/v1/crates/secrex/1.0.0/download'));
      // The crate's page: one lookup in the crates table either way (for a missing crate, the first
      // query of `crate`, which finds nothing), never the loading of a hidden crate's versions.
      assert.deepEqual(await pageLookupsOf('secret'), ['crate names']);
      assert.deepEqual(await pageLookupsOf('secrex'), ['crate with its versions']);
    } finally {
      Object.assign(crates, { findVersionBlob, findCrateName });
      Object.assign(catalog, { crate, existingCrates });
    }
  });

  it('search never lists a crate the user may not read, nor counts it', async () => {
    const forBob = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=thing', token: bob })).body);
    assert.deepEqual(
      forBob.crates.map((c: { name: string }) => c.name),
      ['public-thing'],
    );
    assert.equal(forBob.meta.total, 1);
    const forAlice = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=thing', token: alice })).body);
    assert.deepEqual(forAlice.crates.map((c: { name: string }) => c.name).sort(), ['public-thing', 'secret', 'secret-sauce']);
    const paged = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=thing&per_page=1&page=2', token: alice })).body);
    assert.equal(paged.meta.total, 3);
    assert.equal(paged.crates.length, 1);
  });

  it('refuses publishing a new crate under a rule to those it does not name', async () => {
    const res = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: bob,
      payload: await publishBodyFor('internal-tool', '1.0.0'),
    });
    assert.equal(res.statusCode, 403);
    assert.equal(detail(res.body), 'you may not publish new crates matching `internal-*`; access rule 2 allows alice');
    const ok = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: alice,
      payload: await publishBodyFor('internal-tool', '1.0.0'),
    });
    assert.equal(ok.statusCode, 200);
  });

  it('lets a crate admin of a rule yank and manage owners of crates under it', async () => {
    assert.equal((await r.request({ method: 'GET', url: '/index/se/cr/secret', token: lead })).statusCode, 200);
    assert.equal((await r.request({ method: 'DELETE', url: '/api/v1/crates/secret/1.0.0/yank', token: lead })).statusCode, 200);
    const addOwner = await r.request({ method: 'PUT', url: '/api/v1/crates/secret/owners', token: lead, payload: { users: ['lead'] } });
    assert.equal(addOwner.statusCode, 200);
    // But not of crates outside it.
    const outside = await r.request({ method: 'DELETE', url: '/api/v1/crates/public-thing/1.0.0/yank', token: lead });
    assert.equal(outside.statusCode, 403);
  });

  it('takes group changes into account at once', async () => {
    await r.registry.accounts.addGroupMember('core', 'bob');
    assert.equal((await r.request({ method: 'GET', url: '/index/se/cr/secret', token: bob })).statusCode, 200);
    await r.registry.accounts.removeGroupMember('core', 'bob');
    assert.equal((await r.request({ method: 'GET', url: '/index/se/cr/secret', token: bob })).statusCode, 404);
  });
});

describe('rate limits', () => {
  it('limit publishes per user with 429 and Retry-After', async () => {
    const r = await startTestRegistry({ 'rate_limits.publish_per_minute': '3' });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) {
        const res = await r.request({
          method: 'PUT',
          url: '/api/v1/crates/new',
          token: r.adminToken,
          payload: await publishBodyFor('limited', `1.0.${i}`),
        });
        statuses.push(res.statusCode);
        if (res.statusCode === 429) {
          assert.match(res.headers['retry-after'] as string, /^\d+$/);
          assert.match(detail(res.body), /too many publishes by this user; try again in \d+ s/);
        }
      }
      assert.deepEqual(statuses, [200, 200, 200, 429]);
    } finally {
      await r.close();
    }
  });

  it('count the failed token checks of an IPv6 /64 together, however many of its addresses send them', async () => {
    const r = await startTestRegistry({ 'rate_limits.failed_auth_per_minute': '3' });
    try {
      const check = async (remoteAddress: string) =>
        (await r.request({ method: 'GET', url: '/index/config.json', token: generateToken(), remoteAddress })).statusCode;
      const statuses = [];
      for (let i = 1; i <= 5; i++) statuses.push(await check(`2001:db8:0:7::${i.toString(16)}`));
      assert.deepEqual(statuses, [401, 401, 401, 429, 429], 'one host, five addresses of its /64');
      assert.equal(await check('2001:db8:0:8::1'), 401, 'the next /64 is another host');
      assert.equal(await check('::ffff:192.0.2.7'), 401);
    } finally {
      await r.close();
    }
  });

  it('limit failed token checks per address, while good tokens keep working', async () => {
    const r = await startTestRegistry({ 'rate_limits.failed_auth_per_minute': '5' });
    try {
      assert.equal((await r.request({ method: 'GET', url: '/index/config.json', token: r.adminToken })).statusCode, 200);
      const statuses = [];
      // Well-formed (right checksum) but unknown: each costs a lookup, and counts.
      for (let i = 0; i < 7; i++)
        statuses.push((await r.request({ method: 'GET', url: '/index/config.json', token: generateToken() })).statusCode);
      assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
      const blocked = await r.request({ method: 'GET', url: '/index/config.json', token: generateToken() });
      assert.ok(Number(blocked.headers['retry-after']) >= 1);
      // A token already known to this process is decided from memory and not held up,
      assert.equal((await r.request({ method: 'GET', url: '/index/config.json', token: r.adminToken })).statusCode, 200);
      // and so is a valid one it has not seen yet (others behind the same address failed, not its holder).
      const fresh = await r.userToken('behind-the-same-nat');
      assert.equal((await r.request({ method: 'GET', url: '/index/config.json', token: fresh })).statusCode, 200);
    } finally {
      await r.close();
    }
  });
});
