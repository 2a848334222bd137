// RustSec advisories through the running app: a sync for `local` reaches the advisory rule through
// the change feed (no restart), denied versions leave the index and their downloads are refused with
// the advisory id, and administrators read a crate's advisories per source.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { AdvisorySyncService } from '../../src/services/advisory-sync.js';
import { advisoryFiles, writeAdvisoryFolder } from '../support/advisory-fixtures.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

const ADVISORY = {
  id: 'RUSTSEC-2026-0042',
  package: 'leaky',
  title: 'leaky leaks memory',
  patched: ['>= 1.0.1'],
  url: 'https://example.com/leaky/1',
  cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H',
};

describe('advisories in the registry', () => {
  let r: TestRegistry;
  let alice: string;
  /** The versions a new resolution may pick: those the index serves unyanked. */
  const versionsInIndex = async () => {
    const res = await r.request({ method: 'GET', url: '/index/le/ak/leaky', token: r.adminToken });
    assert.equal(res.statusCode, 200, res.body);
    return res.body
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { vers: string; yanked: boolean })
      .filter((line) => !line.yanked)
      .map((line) => line.vers);
  };

  before(async () => {
    r = await startTestRegistry();
    await r.registry.accounts.addUser('alice', false);
    alice = (await r.registry.accounts.createToken('alice', 'laptop')).token;
    for (const v of ['1.0.0', '1.0.1']) {
      const res = await r.request({
        method: 'PUT',
        url: '/api/v1/crates/new',
        token: r.adminToken,
        payload: await publishBodyFor('leaky', v),
      });
      assert.equal(res.statusCode, 200, res.body);
    }
    await r.registry.metadata.policy.setSetting('local', 'advisories', JSON.stringify('deny'), 'admin', '2030-01-01T00:00:00.000Z');
    await r.registry.changes.poll();
  });
  after(() => r.close());

  it('marks an affected local version yanked in the index and refuses its download once a sync lands', async () => {
    assert.deepEqual(await versionsInIndex(), ['1.0.0', '1.0.1']);
    const folder = writeAdvisoryFolder(makeTempDir('cratekeeper-advisory-db-'), advisoryFiles([ADVISORY]));
    await new AdvisorySyncService(r.registry.metadata.advisories).sync(folder, 'local');
    // What a sync by the CLI (another process) does to a running server: the feed brings it.
    await r.registry.changes.poll();
    // The rule reloads after the poll has dispatched the change.
    await eventually(async () => assert.deepEqual(await versionsInIndex(), ['1.0.1']));
    const refused = await r.request({ method: 'GET', url: '/api/v1/crates/leaky/1.0.0/download', token: alice });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.match(JSON.parse(refused.body).errors[0].detail, /leaky@1\.0\.0 is affected by RUSTSEC-2026-0042 \(leaky leaks memory\)/);
    const allowed = await r.request({ method: 'GET', url: '/api/v1/crates/leaky/1.0.1/download', token: alice });
    assert.equal(allowed.statusCode, 200);
  });

  it('shows administrators the advisories of a crate per source, and nobody else', async () => {
    const res = await r.request({ method: 'GET', url: '/api/v1/admin/advisories/leaky', token: r.adminToken });
    assert.equal(res.statusCode, 200, res.body);
    const body = JSON.parse(res.body);
    assert.equal(body.crate, 'leaky');
    const local = body.sources.find((s: { source: string }) => s.source === 'local');
    assert.ok(local.last_sync);
    assert.deepEqual(
      local.advisories.map((a: Record<string, unknown>) => [a.id, a.title, a.url, a.cvss_score, a.patched]),
      [['RUSTSEC-2026-0042', 'leaky leaks memory', 'https://example.com/leaky/1', 7.5, ['>= 1.0.1']]],
    );
    const denied = await r.request({ method: 'GET', url: '/api/v1/admin/advisories/leaky', token: alice });
    assert.equal(denied.statusCode, 403);
    assert.equal(JSON.parse(denied.body).errors[0].detail, 'only administrators may read advisories');
  });
});
