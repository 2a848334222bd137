// The supply-chain policy's findings where people look, not only in `policy check` (issue 14): an
// advisory under `warn` on the crate page and in the crate API, a local version's licence verdict,
// a mirrored crate's own view with the quarantine's release time (for whoever may read the mirror's
// index, and nobody else), a hidden crate's findings kept from those who may not read it, and the
// admin list of what is held back built from the database, so a new process over the same data
// shows it before anything was read.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { AdvisorySyncService } from '../../src/services/advisory-sync.js';
import { advisoryFiles, writeAdvisoryFolder } from '../support/advisory-fixtures.js';
import { eventually } from '../support/eventually.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { signInWithToken } from '../support/web-session.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A sparse upstream serving one crate, `demo`: 1.0.0 ten days old, 1.1.0 one day old. */
class FakeUpstream {
  private server: Server | undefined;
  url = '';
  async start(): Promise<void> {
    const line = (vers: string, pubtime: string) =>
      JSON.stringify({
        name: 'demo',
        vers,
        deps: [],
        cksum: createHash('sha256').update(vers).digest('hex'),
        features: {},
        yanked: false,
        pubtime,
      }) + '\n';
    this.server = createServer((req, res) => {
      if (req.url === '/index/config.json') return res.end(JSON.stringify({ dl: `${this.url}/crates/{crate}/{version}.crate` }));
      if (req.url === '/index/de/mo/demo') return res.end(line('1.0.0', iso(T0 - 10 * DAY)) + line('1.1.0', iso(T0 - DAY)));
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

const ADVISORY = { id: 'RUSTSEC-2026-0042', package: 'leaky', title: 'leaky leaks memory', patched: ['>= 1.0.1'] };
const SECRET_ADVISORY = { id: 'RUSTSEC-2026-0077', package: 'secret-leaky', title: 'secret-leaky leaks secrets', patched: ['>= 2'] };

interface Finding {
  version: string;
  rule: string;
  effect: string;
  advisory: string | null;
  title: string | null;
  released_at: string | null;
}

describe('policy findings on pages and in the API', () => {
  const upstream = new FakeUpstream();
  const now = T0;
  let r: TestRegistry;
  let toml = '';
  let alice: string;
  let bob: string;

  before(async () => {
    await upstream.start();
    toml =
      `[[upstreams]]\nname = "up"\nindex_url = "${upstream.url}/index/"\nindex_ttl_seconds = 0\nmin_release_age = "3d"\n\n` +
      '[[access.rules]]\ncrates = ["secret*"]\nread = ["alice"]\n';
    r = await startTestRegistry({}, toml, { now: () => now });
    alice = await r.userToken('alice');
    bob = await r.userToken('bob');
    for (const [name, version] of [
      ['leaky', '1.0.0'],
      ['leaky', '1.0.1'],
      ['secret-leaky', '1.0.0'],
    ] as const) {
      await r.publishAsAdmin(name, version);
    }
    assert.equal((await setting('local', 'advisories', 'warn')).statusCode, 200);
    const folder = writeAdvisoryFolder(makeTempDir('cratekeeper-advisory-db-'), advisoryFiles([ADVISORY, SECRET_ADVISORY]));
    await new AdvisorySyncService(r.registry.metadata.advisories).sync(folder, 'local');
    await r.registry.changes.poll();
  });
  after(async () => {
    await r.close();
    await upstream.stop();
  });

  const get = (url: string, token = alice) => r.request({ method: 'GET', url, token });
  const anonymous = (url: string) => r.request({ method: 'GET', url });
  function setting(source: string, key: string, value: string, on = () => r, token?: string) {
    return on().request({
      method: 'PUT',
      url: `/api/v1/admin/policy/settings/${source}/${key}`,
      token: token ?? on().adminToken,
      payload: JSON.stringify({ value }),
      headers: { 'content-type': 'application/json' },
    });
  }
  const findingsOf = async (name: string, token = alice) => {
    const res = await get(`/api/v1/crates/${name}`, token);
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as { policy_findings: Finding[]; licence: { version: string; verdict: string; reason: string | null } };
  };

  it('shows an advisory under `warn` in the crate API and on the crate page, while cargo still gets the version', async () => {
    // The sync reaches the advisory rule through the change feed, in the background.
    await eventually(async () => assert.equal((await findingsOf('leaky')).policy_findings.length, 1));
    const [finding] = (await findingsOf('leaky')).policy_findings;
    assert.deepEqual(
      [finding!.version, finding!.rule, finding!.effect, finding!.advisory, finding!.title],
      ['1.0.0', 'advisory', 'warn', 'RUSTSEC-2026-0042', 'leaky leaks memory'],
    );
    const page = await (await signInWithToken(r, alice)).get('/crates/leaky');
    assert.equal(page.statusCode, 200);
    assert.match(
      page.body,
      /<li data-version="1\.0\.0" data-rule="advisory"><strong>1\.0\.0<\/strong> <span class="badge">warning<\/span>/,
    );
    assert.match(page.body, /leaky@1\.0\.0 is affected by RUSTSEC-2026-0042 \(leaky leaks memory\)/);
    const index = await get('/index/le/ak/leaky');
    assert.doesNotMatch(index.body, /"yanked":true/, '`warn` serves the version');
  });

  it("shows a local version's licence verdict under the registry's licence rule", async () => {
    assert.equal((await findingsOf('leaky')).licence.verdict, 'no-rule');
    assert.equal((await setting('local', 'licences_allow', 'Apache-2.0')).statusCode, 200);
    const { licence } = await findingsOf('leaky');
    assert.equal(licence.version, '1.0.1');
    assert.equal(licence.verdict, 'denied');
    assert.match(licence.reason ?? '', /MIT/);
    const page = await (await signInWithToken(r, alice)).get('/crates/leaky/1.0.0');
    assert.match(page.body, /<dd id="license">MIT<br><span class="muted" id="licence-verdict" data-verdict="denied">/);
    assert.equal((await setting('local', 'licences_allow', 'MIT,Apache-2.0')).statusCode, 200);
    const allowed = await (await signInWithToken(r, alice)).get('/crates/leaky');
    assert.match(allowed.body, /id="licence-verdict" data-verdict="allowed">allowed by this registry&#39;s licence rule</);
  });

  it("shows a quarantined mirrored version with its release time in the mirrored crate's view", async () => {
    const res = await get('/api/v1/mirrors/up/crates/demo');
    assert.equal(res.statusCode, 200, res.body);
    const view = JSON.parse(res.body) as { versions: { num: string; status: string; findings: Finding[] }[] };
    assert.deepEqual(
      view.versions.map((v) => [v.num, v.status, v.findings.map((f) => `${f.rule}:${f.released_at}`).join()]),
      [
        ['1.1.0', 'denied', 'quarantine:2026-11-22T12:00:00Z'],
        ['1.0.0', 'ok', ''],
      ],
    );
    const page = await (await signInWithToken(r, alice)).get('/crates/demo?source=up');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<tr data-version="1\.1\.0">.*held back.*demo@1\.1\.0 is in quarantine until 2026-11-22T12:00:00Z/s);
    assert.match(page.body, /\(released 2026-11-22T12:00:00Z\)/);
  });

  it("answers the mirrored crate's view as the mirror's index answers: 401 without a token, 404 for what is not there", async () => {
    const anonymousIndex = await anonymous('/mirrors/up/index/de/mo/demo');
    const anonymousView = await anonymous('/api/v1/mirrors/up/crates/demo');
    assert.equal(anonymousIndex.statusCode, 401);
    assert.equal(anonymousView.statusCode, 401);
    assert.doesNotMatch(anonymousView.body, /quarantine/);
    const anonymousPage = await anonymous('/crates/demo?source=up');
    assert.equal(anonymousPage.statusCode, 303, 'a page asks to sign in');
    assert.doesNotMatch(anonymousPage.body, /quarantine/);
    assert.equal((await get('/api/v1/mirrors/nowhere/crates/demo')).statusCode, 404);
    const missing = await get('/api/v1/mirrors/up/crates/absent');
    assert.equal(missing.statusCode, 404);
    assert.match(JSON.parse(missing.body).errors[0].detail, /mirror `up` has no crate named `absent`/);
  });

  it("never shows a hidden crate's findings to a user who may not read it", async () => {
    const own = await findingsOf('secret-leaky', alice);
    assert.equal(own.policy_findings[0]?.advisory, 'RUSTSEC-2026-0077', 'alice may read it, and it has a finding');
    const hidden = await get('/api/v1/crates/secret-leaky', bob);
    const missing = await get('/api/v1/crates/secret-nothing', bob);
    assert.equal(hidden.statusCode, 404);
    assert.equal(hidden.body.replaceAll('secret-leaky', 'X'), missing.body.replaceAll('secret-nothing', 'X'));
    const page = await (await signInWithToken(r, bob)).get('/crates/secret-leaky');
    assert.equal(page.statusCode, 404);
    assert.doesNotMatch(page.body, /RUSTSEC|leaks secrets/);
  });

  it('lists what is held back from the database: a new process over the same data shows it before any read, a page at a time', async () => {
    assert.equal((await setting('local', 'advisories', 'deny')).statusCode, 200);
    const hold = await r.request({
      method: 'POST',
      url: '/api/v1/admin/policy/exceptions',
      token: r.adminToken,
      payload: JSON.stringify({ kind: 'hold', crate: 'leaky@1.0.1', reason: 'bad release' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(hold.statusCode, 201, hold.body);
    const dataDir = r.dataDir;
    await r.close();
    r = await startTestRegistry({ 'storage.data_dir': dataDir }, toml, { now: () => now });
    const carol = await r.userToken('carol', true);

    const overview = async (query = '') => {
      const res = await r.request({ method: 'GET', url: `/api/v1/admin/policy${query}`, token: carol });
      assert.equal(res.statusCode, 200, res.body);
      return JSON.parse(res.body) as {
        held_back: { source: string; crate: string; version: string; findings: { rule: string }[] }[];
        held_back_next: string | null;
      };
    };
    const expected = [
      'local leaky@1.0.0 advisory',
      'local leaky@1.0.1 hold',
      'local secret-leaky@1.0.0 advisory',
      'up demo@1.1.0 quarantine',
    ];
    const show = (rows: { source: string; crate: string; version: string; findings: { rule: string }[] }[]) =>
      rows.map((h) => `${h.source} ${h.crate}@${h.version} ${h.findings.map((f) => f.rule).join('+')}`);
    const all = await overview();
    assert.deepEqual(show(all.held_back), expected);
    assert.equal(all.held_back_next, null);

    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await overview(`?per_page=1${cursor === null ? '' : `&after=${encodeURIComponent(cursor)}`}`);
      paged.push(...show(page.held_back));
      cursor = page.held_back_next;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.deepEqual(paged, expected, 'one crate a page, every row once');
    // leaky, secret-leaky, demo, and leaky of `up` (the hold is on every source; nothing of it seen there).
    assert.equal(pages, 4);

    const bad = await r.request({ method: 'GET', url: '/api/v1/admin/policy?per_page=0', token: carol });
    assert.equal(bad.statusCode, 400);
    assert.match(JSON.parse(bad.body).errors[0].detail, /per_page must be a number from 1 to 200/);

    const adminPage = await (await signInWithToken(r, carol)).get('/admin/policy');
    assert.match(
      adminPage.body,
      /<td>up<\/td><td>demo@1\.1\.0<\/td><td>quarantine: demo@1\.1\.0 is in quarantine until 2026-11-22T12:00:00Z/,
    );
    assert.match(adminPage.body, /<td>local<\/td><td>leaky@1\.0\.1<\/td><td>held by an administrator: /);
  });
});
