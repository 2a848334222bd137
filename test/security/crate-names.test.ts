// API lookups treat `Foo-bar`, `foo_bar` and `FOO-BAR` as one crate, as publish and crates.io do:
// owners, yank, unyank, search and downloads all find the crate published as `foo-bar`, and what
// they record names it as published.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

describe('crate names in API lookups', () => {
  let r: TestRegistry;
  const ask = (method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: string) => r.request({ method, url, token: r.adminToken, payload });

  before(async () => {
    r = await startTestRegistry();
    await r.publishAsAdmin('foo-bar', '1.0.0');
  });
  after(() => r.close());

  it('lists and changes owners in any spelling', async () => {
    await r.registry.accounts.addUser('carol', false);
    for (const spelling of ['Foo-bar', 'foo_bar', 'FOO-BAR']) {
      const res = await ask('GET', `/api/v1/crates/${spelling}/owners`);
      assert.equal(res.statusCode, 200, `${spelling}: ${res.body}`);
    }
    const added = await ask('PUT', '/api/v1/crates/FOO_BAR/owners', '{"users":["carol"]}');
    assert.equal(added.statusCode, 200, added.body);
    assert.match(JSON.parse(added.body).msg, /added as owner of crate foo-bar/);
    const logins = (JSON.parse((await ask('GET', '/api/v1/crates/foo-bar/owners')).body).users as { login: string }[]).map((u) => u.login);
    assert.deepEqual(logins.sort(), ['admin', 'carol']);
    assert.equal((await ask('DELETE', '/api/v1/crates/Foo_Bar/owners', '{"users":["carol"]}')).statusCode, 200);
  });

  it('yanks and unyanks in any spelling, and the index shows it', async () => {
    assert.equal((await ask('DELETE', '/api/v1/crates/FOO_BAR/1.0.0/yank')).statusCode, 200);
    const yanked = await ask('GET', '/index/fo/o-/foo-bar');
    assert.equal(JSON.parse(yanked.body).yanked, true);
    assert.equal((await ask('PUT', '/api/v1/crates/Foo-Bar/1.0.0/unyank')).statusCode, 200);
    assert.equal(JSON.parse((await ask('GET', '/index/fo/o-/foo-bar')).body).yanked, false);
  });

  it('finds the crate by search in any spelling', async () => {
    for (const q of ['foo_bar', 'FOO-BAR', 'o_b']) {
      const names = (JSON.parse((await ask('GET', `/api/v1/crates?q=${q}`)).body).crates as { name: string }[]).map((c) => c.name);
      assert.deepEqual(names, ['foo-bar'], q);
    }
  });

  it('downloads in any spelling, counted and audited under the published name', async () => {
    const published = await ask('GET', '/api/v1/crates/foo-bar/1.0.0/download');
    for (const spelling of ['Foo_Bar', 'FOO-BAR']) {
      const res = await ask('GET', `/api/v1/crates/${spelling}/1.0.0/download`);
      assert.equal(res.statusCode, 200, spelling);
      assert.equal(res.rawPayload.compare(published.rawPayload), 0);
    }
    await r.registry.audit.flush();
    const events = JSON.parse((await ask('GET', '/api/v1/admin/audit?action=download')).body).events as { crate: string }[];
    assert.deepEqual([...new Set(events.map((e) => e.crate))], ['foo-bar']);
  });
});
