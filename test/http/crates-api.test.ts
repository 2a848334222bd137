import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

const detail = (body: string) => JSON.parse(body).errors[0].detail as string;

describe('web API', () => {
  let r: TestRegistry;
  let alice: string;
  let bob: string;
  before(async () => {
    r = await startTestRegistry();
    alice = await r.userToken('alice');
    bob = await r.userToken('bob');
    for (const [name, version, description] of [
      ['widget', '1.0.0', 'A widget toolkit'],
      ['widget', '1.2.0', 'A widget toolkit'],
      ['widget', '2.0.0-beta.1', 'A widget toolkit'],
      ['widget-derive', '1.0.0', 'Derive macros'],
      ['gadget', '0.3.0', 'Uses widgets inside'],
      ['zzz', '1.0.0', 'unrelated'],
    ]) {
      const res = await r.request({
        method: 'PUT',
        url: '/api/v1/crates/new',
        token: alice,
        payload: await publishBodyFor(name!, version!, { description }),
      });
      assert.equal(res.statusCode, 200, res.body);
    }
  });
  after(() => r.close());

  describe('yank and unyank', () => {
    it('lets an owner yank and unyank, visible in the index', async () => {
      const yank = await r.request({ method: 'DELETE', url: '/api/v1/crates/widget/1.0.0/yank', token: alice });
      assert.deepEqual(JSON.parse(yank.body), { ok: true });
      const index = await r.request({ method: 'GET', url: '/index/wi/dg/widget', token: bob });
      assert.equal(JSON.parse(index.body.split('\n')[0]!).yanked, true);
      const unyank = await r.request({ method: 'PUT', url: '/api/v1/crates/widget/1.0.0/unyank', token: alice });
      assert.deepEqual(JSON.parse(unyank.body), { ok: true });
      const again = await r.request({ method: 'GET', url: '/index/wi/dg/widget', token: bob });
      assert.equal(JSON.parse(again.body.split('\n')[0]!).yanked, false);
    });

    it('refuses non-owners, unknown crates and versions with cargo-shaped errors', async () => {
      const stranger = await r.request({ method: 'DELETE', url: '/api/v1/crates/widget/1.0.0/yank', token: bob });
      assert.equal(stranger.statusCode, 403);
      assert.match(detail(stranger.body), /not an owner of crate `widget`/);
      const missingCrate = await r.request({ method: 'DELETE', url: '/api/v1/crates/nope/1.0.0/yank', token: alice });
      assert.equal(missingCrate.statusCode, 404);
      assert.match(detail(missingCrate.body), /crate `nope` does not exist/);
      const missingVersion = await r.request({ method: 'DELETE', url: '/api/v1/crates/widget/9.9.9/yank', token: alice });
      assert.equal(missingVersion.statusCode, 404);
      assert.match(detail(missingVersion.body), /has no version `9\.9\.9`/);
      const noToken = await r.request({ method: 'DELETE', url: '/api/v1/crates/widget/1.0.0/yank' });
      assert.equal(noToken.statusCode, 401);
    });

    it('lets an admin yank any crate', async () => {
      const res = await r.request({ method: 'DELETE', url: '/api/v1/crates/zzz/1.0.0/yank', token: r.adminToken });
      assert.equal(res.statusCode, 200);
      await r.request({ method: 'PUT', url: '/api/v1/crates/zzz/1.0.0/unyank', token: r.adminToken });
    });
  });

  describe('owners', () => {
    it('lists, adds and removes owners', async () => {
      const list = async () =>
        JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates/gadget/owners', token: bob })).body).users.map(
          (u: { login: string }) => u.login,
        );
      assert.deepEqual(await list(), ['alice']);
      const add = await r.request({ method: 'PUT', url: '/api/v1/crates/gadget/owners', token: alice, payload: { users: ['bob'] } });
      assert.equal(add.statusCode, 200);
      assert.equal(JSON.parse(add.body).ok, true);
      assert.match(JSON.parse(add.body).msg, /bob added as owner of crate gadget/);
      assert.deepEqual(await list(), ['alice', 'bob']);
      // The new owner can now publish.
      const pub = await r.request({
        method: 'PUT',
        url: '/api/v1/crates/new',
        token: bob,
        payload: await publishBodyFor('gadget', '0.4.0', { description: 'Uses widgets inside' }),
      });
      assert.equal(pub.statusCode, 200, pub.body);
      const remove = await r.request({ method: 'DELETE', url: '/api/v1/crates/gadget/owners', token: bob, payload: { users: ['alice'] } });
      assert.equal(remove.statusCode, 200);
      assert.match(JSON.parse(remove.body).msg, /alice removed as owner/);
      assert.deepEqual(await list(), ['bob']);
    });

    it('keeps at least one owner', async () => {
      const res = await r.request({ method: 'DELETE', url: '/api/v1/crates/gadget/owners', token: bob, payload: { users: ['bob'] } });
      assert.equal(res.statusCode, 409);
      assert.match(detail(res.body), /cannot remove every owner/);
      const owners = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates/gadget/owners', token: bob })).body).users;
      assert.equal(owners.length, 1);
    });

    it('refuses unknown users, non-owners and malformed bodies', async () => {
      const unknown = await r.request({ method: 'PUT', url: '/api/v1/crates/widget/owners', token: alice, payload: { users: ['nobody'] } });
      assert.equal(unknown.statusCode, 404);
      assert.match(detail(unknown.body), /there is no user `nobody`/);
      const stranger = await r.request({ method: 'PUT', url: '/api/v1/crates/widget/owners', token: bob, payload: { users: ['bob'] } });
      assert.equal(stranger.statusCode, 403);
      for (const payload of ['not json', '{"users": []}', '{"users": [1]}', '{}']) {
        const res = await r.request({
          method: 'PUT',
          url: '/api/v1/crates/widget/owners',
          token: alice,
          payload,
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(res.statusCode, 400, payload);
        assert.match(detail(res.body), /\{"users":\["login", \.\.\.\]\}/);
      }
    });
  });

  describe('search', () => {
    it('finds by name and description, exact and prefix matches first', async () => {
      const res = await r.request({ method: 'GET', url: '/api/v1/crates?q=widget&per_page=10', token: bob });
      const body = JSON.parse(res.body);
      assert.deepEqual(
        body.crates.map((c: { name: string }) => c.name),
        ['widget', 'widget-derive', 'gadget'],
      );
      assert.equal(body.meta.total, 3);
      assert.deepEqual(body.crates[0], { name: 'widget', max_version: '1.2.0', description: 'A widget toolkit' });
    });

    it('pages with per_page and reports the total', async () => {
      const first = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=widget&per_page=1', token: bob })).body);
      assert.equal(first.crates.length, 1);
      assert.equal(first.meta.total, 3);
      const second = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=widget&per_page=1&page=2', token: bob })).body);
      assert.equal(second.crates[0].name, 'widget-derive');
    });

    it('treats % and _ literally, and lists everything for an empty query', async () => {
      const pct = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=%25', token: bob })).body);
      assert.equal(pct.meta.total, 0);
      const all = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=', token: bob })).body);
      assert.equal(all.meta.total, 4);
    });

    it('validates per_page and needs a token', async () => {
      for (const perPage of ['0', '101', 'x']) {
        const res = await r.request({ method: 'GET', url: `/api/v1/crates?q=a&per_page=${perPage}`, token: bob });
        assert.equal(res.statusCode, 400);
        assert.match(detail(res.body), /per_page` must be a whole number from 1 to 100/);
      }
      assert.equal((await r.request({ method: 'GET', url: '/api/v1/crates?q=widget' })).statusCode, 401);
    });

    it('refuses a query with a NUL character, which no crate has and PostgreSQL cannot compare', async () => {
      for (const q of ['%00', 'wi%00', 'widget%00x']) {
        const res = await r.request({ method: 'GET', url: `/api/v1/crates?q=${q}`, token: bob });
        assert.equal(res.statusCode, 400, q);
        assert.equal(detail(res.body), '`q` contains a NUL character (\\u0000)');
      }
    });
  });

  it('answers unknown paths with a cargo-shaped 404', async () => {
    const res = await r.request({ method: 'GET', url: '/api/v1/nothing', token: bob });
    assert.equal(res.statusCode, 404);
    assert.match(detail(res.body), /no such path/);
  });

  it('serves a /me page without a token that explains how to get one', async () => {
    const res = await r.request({ method: 'GET', url: '/me' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /cratekeeper token create --user/);
    assert.match(res.body, /credential-provider = "cargo:token"/);
    assert.match(res.body, /index = "sparse\+http:\/\/registry\.test\/index\/"/);
  });
});

describe('health probes', () => {
  it('answer without a token: alive, and ready while database and storage answer', async () => {
    const r = await startTestRegistry();
    try {
      assert.deepEqual(JSON.parse((await r.request({ method: 'GET', url: '/healthz' })).body), { status: 'ok' });
      const ready = await r.request({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(JSON.parse(ready.body), { status: 'ok', database: 'ok', storage: 'ok' });
      await r.registry.metadata.close();
      const notReady = await r.request({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      // Which dependency, never the error's text (the probe needs no token).
      assert.deepEqual(JSON.parse(notReady.body), { status: 'unavailable', database: 'unreachable', storage: 'ok' });
    } finally {
      await r.app.close();
    }
  });
});

describe('groups as owners', () => {
  let r: TestRegistry;
  let carol: string; // in group core
  let dave: string; // in no group
  before(async () => {
    r = await startTestRegistry();
    carol = await r.userToken('carol');
    dave = await r.userToken('dave');
    await r.registry.accounts.addGroupMember('core', 'carol');
    await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: r.adminToken,
      payload: await publishBodyFor('team-crate', '1.0.0'),
    });
  });
  after(() => r.close());

  const owners = async () =>
    JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates/team-crate/owners', token: dave })).body).users.map(
      (u: { login: string }) => u.login,
    );

  it('makes every member of an owning group an owner', async () => {
    const before = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: carol,
      payload: await publishBodyFor('team-crate', '1.1.0'),
    });
    assert.equal(before.statusCode, 403);
    const add = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/team-crate/owners',
      token: r.adminToken,
      payload: { users: ['group:core'] },
    });
    assert.equal(add.statusCode, 200, add.body);
    assert.match(JSON.parse(add.body).msg, /group core added as owner of crate team-crate/);
    assert.deepEqual(await owners(), ['admin', 'group:core']);
    const publish = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: carol,
      payload: await publishBodyFor('team-crate', '1.1.0'),
    });
    assert.equal(publish.statusCode, 200, publish.body);
    assert.equal((await r.request({ method: 'DELETE', url: '/api/v1/crates/team-crate/1.1.0/yank', token: carol })).statusCode, 200);
    const stranger = await r.request({ method: 'DELETE', url: '/api/v1/crates/team-crate/1.1.0/yank', token: dave });
    assert.equal(stranger.statusCode, 403);
  });

  it('follows group membership, and counts a group as an owner for the last-owner rule', async () => {
    await r.registry.accounts.addGroupMember('core', 'dave');
    assert.equal((await r.request({ method: 'PUT', url: '/api/v1/crates/team-crate/1.1.0/unyank', token: dave })).statusCode, 200);
    // The admin may leave: the group still owns the crate.
    const leave = await r.request({
      method: 'DELETE',
      url: '/api/v1/crates/team-crate/owners',
      token: carol,
      payload: { users: ['admin'] },
    });
    assert.equal(leave.statusCode, 200, leave.body);
    assert.deepEqual(await owners(), ['group:core']);
    const last = await r.request({
      method: 'DELETE',
      url: '/api/v1/crates/team-crate/owners',
      token: carol,
      payload: { users: ['group:core'] },
    });
    assert.equal(last.statusCode, 409);
    assert.deepEqual(await owners(), ['group:core']);
    const unknown = await r.request({
      method: 'DELETE',
      url: '/api/v1/crates/team-crate/owners',
      token: carol,
      payload: { users: ['group:other'] },
    });
    assert.equal(unknown.statusCode, 404);
    assert.match(JSON.parse(unknown.body).errors[0].detail, /`group:other` is not an owner of crate `team-crate`/);
    const bad = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/team-crate/owners',
      token: carol,
      payload: { users: ['group:no spaces'] },
    });
    assert.equal(bad.statusCode, 400);
  });
});
