// The supply-chain policy over HTTP: quarantine of a mirrored upstream (index files without the
// young versions, refused downloads naming the release time, a new ETag when a version comes out,
// first sight that a backdated pubtime cannot hurry, early releases), holds on local crates, the
// admin API (only for administrators, audited), `policy check`, /metrics, and a change made on one
// replica taking effect on another that shares the database.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { FakeDemoUpstream, versionsIn } from '../support/fake-demo-upstream.js';
import { signInWithToken } from '../support/web-session.js';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('supply-chain policy', () => {
  const upstream = new FakeDemoUpstream();
  let now = T0;
  let r: TestRegistry;
  let replica: TestRegistry;
  let alice: string;

  before(async () => {
    await upstream.start();
    upstream.lines.set('1.0.0', { pubtime: iso(T0 - 10 * DAY) });
    upstream.lines.set('1.1.0', { pubtime: iso(T0 - DAY) });
    upstream.lines.set('1.2.0', {});
    const toml = `[[upstreams]]\nname = "up"\nindex_url = "${upstream.url}/index/"\nindex_ttl_seconds = 0\nmain_index = true\nmin_release_age = "3d"\n`;
    r = await startTestRegistry({}, toml, { now: () => now });
    replica = await startTestRegistry({ 'storage.data_dir': r.dataDir }, toml, { now: () => now });
    alice = await r.userToken('alice');
  });
  after(async () => {
    await replica.close();
    await r.close();
    await upstream.stop();
  });

  const get = (url: string, token = alice, headers: Record<string, string> = {}, on = r) =>
    on.request({ method: 'GET', url, token, headers });
  const admin = (method: 'POST' | 'PUT' | 'DELETE' | 'GET', url: string, payload?: unknown, token = r.adminToken) =>
    r.request({
      method,
      url,
      token,
      payload: payload === undefined ? undefined : JSON.stringify(payload),
      headers: { 'content-type': 'application/json' },
    });

  describe('quarantine of a mirrored upstream', () => {
    let heldEtag = '';

    it('leaves young versions out of the mirror and the main index, and refuses their downloads with the release time', async () => {
      const mirror = await get('/mirrors/up/index/de/mo/demo');
      assert.equal(mirror.statusCode, 200);
      assert.deepEqual(versionsIn(mirror.body), ['1.0.0']);
      heldEtag = String(mirror.headers.etag);
      const main = await get('/index/de/mo/demo');
      assert.deepEqual(versionsIn(main.body), ['1.0.0']);
      assert.equal(main.headers.etag, heldEtag);

      const refused = await get('/mirrors/up/crates/demo/1.1.0/download');
      assert.equal(refused.statusCode, 403);
      const detail = (JSON.parse(refused.body) as { errors: { detail: string }[] }).errors[0]!.detail;
      assert.match(detail, /demo@1\.1\.0 is in quarantine until 2026-11-22T12:00:00Z/);
      assert.match(detail, /upstream `up` holds back versions younger than 3d/);
      const viaMain = await get('/api/v1/crates/demo/1.2.0/download');
      assert.equal(viaMain.statusCode, 403);
      assert.match(viaMain.body, /demo@1\.2\.0 is in quarantine until 2026-11-23T12:00:00Z/, 'no pubtime: three days from first sight');
      assert.equal((await get('/mirrors/up/crates/demo/1.0.0/download')).statusCode, 200);
    });

    it('never hurries a version by a pubtime that appears, or moves back, after first sight', async () => {
      upstream.lines.set('1.2.0', { pubtime: iso(T0 - 30 * DAY) });
      upstream.lines.set('1.1.0', { pubtime: iso(T0 - 20 * DAY) });
      const mirror = await get('/mirrors/up/index/de/mo/demo');
      assert.deepEqual(versionsIn(mirror.body), ['1.0.0']);
      upstream.lines.set('1.1.0', { pubtime: iso(T0 - DAY) });
      upstream.lines.set('1.2.0', {});
    });

    it('lets a version out when its quarantine ends, under a new ETag, with no step by anyone', async () => {
      now = T0 + 2 * DAY + 1000;
      const mirror = await get('/mirrors/up/index/de/mo/demo', alice, { 'if-none-match': heldEtag });
      assert.equal(mirror.statusCode, 200, 'the old ETag no longer matches');
      assert.deepEqual(versionsIn(mirror.body), ['1.0.0', '1.1.0']);
      assert.notEqual(mirror.headers.etag, heldEtag);
      assert.equal((await get('/mirrors/up/crates/demo/1.1.0/download')).statusCode, 200);
    });

    it('lets an administrator release a version early, audited, and every replica follows', async () => {
      assert.deepEqual(versionsIn((await get('/mirrors/up/index/de/mo/demo', alice, {}, replica)).body), ['1.0.0', '1.1.0']);
      const released = await admin('POST', '/api/v1/admin/policy/exceptions', {
        kind: 'release',
        crate: 'demo@1.2.0',
        reason: 'reviewed by security',
        source: 'up',
        expires_in: '2d',
      });
      assert.equal(released.statusCode, 201, released.body);
      assert.deepEqual(versionsIn((await get('/mirrors/up/index/de/mo/demo')).body), ['1.0.0', '1.1.0', '1.2.0']);
      assert.equal((await get('/api/v1/crates/demo/1.2.0/download')).statusCode, 200);
      await replica.registry.changes.poll();
      await eventuallyVersions(replica, ['1.0.0', '1.1.0', '1.2.0']);
      await r.registry.audit.flush();
      const audit = await admin('GET', '/api/v1/admin/audit?action=policy-change');
      assert.match(audit.body, /release demo@1\.2\.0 \(up\) until .*: reviewed by security/);
    });

    it('takes a policy setting changed on one replica on the other, without a restart', async () => {
      const set = await admin('PUT', '/api/v1/admin/policy/settings/up/min_release_age', { value: '30d' });
      assert.equal(set.statusCode, 200, set.body);
      assert.deepEqual(versionsIn((await get('/mirrors/up/index/de/mo/demo')).body), ['1.2.0'], '1.0.0 and 1.1.0 are younger than 30d');
      await replica.registry.changes.poll();
      await eventuallyVersions(replica, ['1.2.0']);
      const unset = await admin('DELETE', '/api/v1/admin/policy/settings/up/min_release_age');
      assert.equal(unset.statusCode, 200, unset.body);
      assert.deepEqual(versionsIn((await get('/mirrors/up/index/de/mo/demo')).body), ['1.0.0', '1.1.0', '1.2.0'], 'the file default again');
    });

    it('holds a version back again once its early release expires, with no step by anyone', async () => {
      // 1.2.0 was released early at T0 + 2d + 1s for 2d; under a 30d minimum it stays young long
      // after that release ends, so only the release lets it out.
      const set = await admin('PUT', '/api/v1/admin/policy/settings/up/min_release_age', { value: '30d' });
      assert.equal(set.statusCode, 200, set.body);
      const released = await get('/mirrors/up/index/de/mo/demo');
      assert.deepEqual(versionsIn(released.body), ['1.2.0']);
      await replica.registry.changes.poll();
      await eventuallyVersions(replica, ['1.2.0']);
      assert.equal((await get('/mirrors/up/crates/demo/1.2.0/download')).statusCode, 200);

      now = T0 + 4 * DAY + 1000 - 1; // the last millisecond of the release
      assert.deepEqual(versionsIn((await get('/mirrors/up/index/de/mo/demo')).body), ['1.2.0']);
      now = T0 + 4 * DAY + 1000; // its expiry
      const expired = await get('/mirrors/up/index/de/mo/demo', alice, { 'if-none-match': String(released.headers.etag) });
      assert.equal(expired.statusCode, 200, 'the old ETag no longer matches');
      assert.deepEqual(versionsIn(expired.body), []);
      const refused = await get('/mirrors/up/crates/demo/1.2.0/download');
      assert.equal(refused.statusCode, 403);
      assert.match(refused.body, /demo@1\.2\.0 is in quarantine until 2026-12-20T12:00:00Z/);
      // The other replica, asked nothing since before the expiry, agrees.
      assert.deepEqual(versionsIn((await get('/mirrors/up/index/de/mo/demo', alice, {}, replica)).body), []);

      const unset = await admin('DELETE', '/api/v1/admin/policy/settings/up/min_release_age');
      assert.equal(unset.statusCode, 200, unset.body);
      now = T0 + 2 * DAY + 1000;
    });

    async function eventuallyVersions(on: TestRegistry, expected: string[]): Promise<void> {
      // The replica reloads what the feed reported in the background: ask until it has.
      await eventually(async () => assert.deepEqual(versionsIn((await get('/mirrors/up/index/de/mo/demo', alice, {}, on)).body), expected));
    }
  });

  describe('holds and the admin API', () => {
    before(async () => {
      await r.publishAsAdmin('local-lib', '1.0.0');
      await r.publishAsAdmin('local-lib', '1.1.0');
    });

    it('refuses every change and the overview to a non-administrator', async () => {
      const hold = await admin('POST', '/api/v1/admin/policy/exceptions', { kind: 'hold', crate: 'local-lib', reason: 'x' }, alice);
      assert.equal(hold.statusCode, 403);
      assert.equal((await admin('GET', '/api/v1/admin/policy', undefined, alice)).statusCode, 403);
      assert.equal((await admin('PUT', '/api/v1/admin/policy/settings/up/min_release_age', { value: '1d' }, alice)).statusCode, 403);
    });

    it('refuses a setting it does not know, or a value it cannot read, saying what is expected', async () => {
      const unknown = await admin('PUT', '/api/v1/admin/policy/settings/up/min_age', { value: '1d' });
      assert.equal(unknown.statusCode, 400);
      assert.match(unknown.body, /unknown policy setting `min_age`; the settings are min_release_age/);
      const bad = await admin('PUT', '/api/v1/admin/policy/settings/up/min_release_age', { value: 'soon' });
      assert.match(bad.body, /min_release_age must be a duration such as \\"3d\\"/);
      const source = await admin('PUT', '/api/v1/admin/policy/settings/nowhere/advisories', { value: 'deny' });
      assert.match(source.body, /no policy source `nowhere`/);
    });

    it('holds a local version back: out of the index, download refused and counted, then back when the hold is removed', async () => {
      const before = await get('/index/lo/ca/local-lib');
      assert.deepEqual(versionsIn(before.body), ['1.0.0', '1.1.0']);
      const hold = await admin('POST', '/api/v1/admin/policy/exceptions', {
        kind: 'hold',
        crate: 'local-lib@1.1.0',
        reason: 'bad release',
      });
      assert.equal(hold.statusCode, 201, hold.body);
      const held = await get('/index/lo/ca/local-lib');
      assert.deepEqual(versionsIn(held.body), ['1.0.0']);
      assert.notEqual(held.headers.etag, before.headers.etag);
      const refused = await get('/api/v1/crates/local-lib/1.1.0/download');
      assert.equal(refused.statusCode, 403);
      assert.match(refused.body, /local-lib@1\.1\.0 is held back: an administrator holds local-lib@1\.1\.0 \(bad release\)/);
      const otherSpelling = await get('/api/v1/crates/Local_Lib/1.1.0/download');
      assert.equal(otherSpelling.statusCode, 403, 'another spelling of the name is refused alike');

      const overview = JSON.parse((await admin('GET', '/api/v1/admin/policy')).body) as {
        exceptions: { kind: string; crate: string }[];
        held_back: { crate: string; version: string; findings: { rule: string }[] }[];
      };
      assert.ok(overview.exceptions.some((e) => e.kind === 'hold' && e.crate === 'local-lib'));
      assert.ok(overview.held_back.some((h) => h.crate === 'local-lib' && h.version === '1.1.0' && h.findings[0]!.rule === 'hold'));

      const page = await (await signInWithToken(r, r.adminToken)).get('/crates/local-lib');
      assert.equal(page.statusCode, 200);
      assert.match(
        page.body,
        /<li data-version="1\.1\.0" data-rule="hold"><strong>1\.1\.0<\/strong> <span class="badge yanked">held back<\/span>/,
      );
      const adminPage = await (await signInWithToken(r, r.adminToken)).get('/admin/policy');
      assert.match(adminPage.body, /<td>local<\/td><td>local-lib@1\.1\.0<\/td><td>held by an administrator: /);
      assert.match(adminPage.body, /<td>hold<\/td><td>local-lib@1\.1\.0<\/td><td>every source<\/td><td>bad release<\/td>/);

      const metrics = await r.request({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /\ncratekeeper_policy_refusals_total\{rule="hold"\} 2\n/);
      // Three quarantine refusals on this replica: demo@1.1.0 and demo@1.2.0 while young, and
      // demo@1.2.0 again once its early release expired.
      assert.match(metrics.body, /\ncratekeeper_policy_refusals_total\{rule="quarantine"\} 3\n/);
      await r.registry.audit.flush();
      const audit = await admin('GET', '/api/v1/admin/audit?action=policy-refused&crate=local-lib');
      assert.match(audit.body, /held back: an administrator holds/);

      const removed = await admin('POST', '/api/v1/admin/policy/exceptions/remove', { kind: 'hold', crate: 'local-lib@1.1.0' });
      assert.equal(removed.statusCode, 200, removed.body);
      const clean = await (await signInWithToken(r, r.adminToken)).get('/crates/local-lib');
      assert.match(clean.body, /id="policy-none"/);
      const back = await get('/index/lo/ca/local-lib');
      assert.equal(back.headers.etag, before.headers.etag);
      assert.equal((await get('/api/v1/crates/local-lib/1.1.0/download')).statusCode, 200);
      const again = await admin('POST', '/api/v1/admin/policy/exceptions/remove', { kind: 'hold', crate: 'local-lib@1.1.0' });
      assert.equal(again.statusCode, 404);
    });
  });

  describe('policy check', () => {
    before(async () => {
      await r.publishAsAdmin('secret-lib', '1.0.0');
      const hold = await admin('POST', '/api/v1/admin/policy/exceptions', { kind: 'hold', crate: 'secret-lib', reason: 'internal' });
      assert.equal(hold.statusCode, 201);
      now = T0; // 1.1.0 and 1.2.0 of demo are young again (1.2.0 released early still)
    });

    it('says of each locked package from this registry whether it is denied, warned about or fine', async () => {
      const main = `sparse+${PUBLIC_URL}/index/`;
      const packages = [
        { name: 'demo', version: '1.0.0', source: `sparse+${PUBLIC_URL}/mirrors/up/index/` },
        { name: 'demo', version: '1.1.0', source: main },
        { name: 'demo', version: '1.2.0', source: main },
        { name: 'secret-lib', version: '1.0.0', source: main },
        { name: 'demo', version: '9.9.9', source: main },
        { name: 'serde', version: '1.0.0', source: 'registry+https://github.com/rust-lang/crates.io-index' },
      ];
      const res = await r.request({ method: 'POST', url: '/api/v1/policy/check', token: alice, payload: { packages } });
      assert.equal(res.statusCode, 200, res.body);
      const answer = JSON.parse(res.body) as {
        denied: number;
        packages: { status: string; served_from?: string; findings: { rule: string }[] }[];
      };
      assert.deepEqual(
        answer.packages.map((p) => [p.status, p.served_from, p.findings.map((f) => f.rule).join()]),
        [
          ['ok', 'up', ''],
          ['denied', 'up', 'quarantine'],
          ['warned', 'up', 'quarantine'],
          ['denied', 'local', 'hold'],
          ['unknown', undefined, ''],
          ['not-served', undefined, ''],
        ],
      );
      assert.equal(answer.denied, 2);
    });
  });
});
