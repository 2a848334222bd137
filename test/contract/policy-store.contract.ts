// The PolicyStore contract (src/ports/policy-store.ts): settings set, replaced and unset;
// exceptions added and removed by exactly their crate, version and source; every such write
// recorded as one `policy` change, a no-op as none; and first sightings written once, never
// changed by later ones. Run against SQLite and PostgreSQL by metadata-repositories-*.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';

const AT = '2026-11-01T00:00:00.000Z';

async function policyChanges(db: MetadataDatabase): Promise<string[]> {
  return (await db.changes.changesSince(0)).filter((c) => c.kind === 'policy').map((c) => c.subject);
}

export function policyStoreContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`PolicyStore contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    it('sets, replaces and unsets settings, recording a change for each write', async () => {
      const db = await fresh();
      await db.policy.setSetting('upstream:crates-io', 'min_release_age', '259200000', 'alice', AT);
      await db.policy.setSetting('local', 'advisories', '"deny"', null, AT);
      await db.policy.setSetting('upstream:crates-io', 'min_release_age', '86400000', 'bob', AT);
      assert.deepEqual(
        (await db.policy.listSettings()).map((r) => [r.source, r.key, r.value, r.updatedBy]),
        [
          ['local', 'advisories', '"deny"', null],
          ['upstream:crates-io', 'min_release_age', '86400000', 'bob'],
        ],
      );
      assert.equal(await db.policy.unsetSetting('local', 'advisories'), true);
      assert.equal(await db.policy.unsetSetting('local', 'advisories'), false);
      assert.equal((await db.policy.listSettings()).length, 1);
      assert.deepEqual(await policyChanges(db), ['settings', 'settings', 'settings', 'settings']);
    });

    it('adds exceptions and removes exactly the ones named', async () => {
      const db = await fresh();
      const base = { reason: 'why', createdBy: 'alice', createdAt: AT, expiresAt: null };
      const hold = await db.policy.addException({ ...base, kind: 'hold', source: null, crate: 'serde', version: null });
      await db.policy.addException({ ...base, kind: 'hold', source: 'local', crate: 'serde', version: '1.0.1' });
      await db.policy.addException({
        ...base,
        kind: 'release',
        source: 'upstream:up',
        crate: 'serde',
        version: '1.0.1',
        expiresAt: '2026-11-08T00:00:00.000Z',
      });
      assert.equal(typeof hold.id, 'number');
      assert.deepEqual(
        (await db.policy.listExceptions()).map((e) => [e.kind, e.source, e.crate, e.version, e.expiresAt]),
        [
          ['hold', null, 'serde', null, null],
          ['hold', 'local', 'serde', '1.0.1', null],
          ['release', 'upstream:up', 'serde', '1.0.1', '2026-11-08T00:00:00.000Z'],
        ],
      );
      assert.equal(await db.policy.removeExceptions('hold', 'serde', '1.0.1', null), 0, 'the source must match too');
      assert.equal(await db.policy.removeExceptions('hold', 'serde', null, null), 1);
      assert.deepEqual(
        (await db.policy.listExceptions()).map((e) => [e.kind, e.version]),
        [
          ['hold', '1.0.1'],
          ['release', '1.0.1'],
        ],
      );
      assert.deepEqual(await policyChanges(db), ['exceptions', 'exceptions', 'exceptions', 'exceptions']);
    });

    it('keeps the first sighting of a version, whatever later sightings say', async () => {
      const db = await fresh();
      await db.policy.recordFirstSightings('upstream:up', 'serde', [
        { version: '1.0.0', firstSeenAt: Date.parse(AT), pubtimeAtFirstSight: Date.parse('2026-10-01T00:00:00Z') },
        { version: '1.0.1', firstSeenAt: Date.parse(AT), pubtimeAtFirstSight: undefined },
      ]);
      await db.policy.recordFirstSightings('upstream:up', 'serde', [
        { version: '1.0.1', firstSeenAt: Date.parse(AT) + 1000, pubtimeAtFirstSight: Date.parse('2020-01-01T00:00:00Z') },
        { version: '1.0.2', firstSeenAt: Date.parse(AT) + 1000, pubtimeAtFirstSight: undefined },
      ]);
      const seen = await db.policy.firstSightings('upstream:up', 'serde');
      assert.deepEqual(
        [...seen.values()].sort((a, b) => a.version.localeCompare(b.version)),
        [
          { version: '1.0.0', firstSeenAt: Date.parse(AT), pubtimeAtFirstSight: Date.parse('2026-10-01T00:00:00Z') },
          { version: '1.0.1', firstSeenAt: Date.parse(AT), pubtimeAtFirstSight: undefined },
          { version: '1.0.2', firstSeenAt: Date.parse(AT) + 1000, pubtimeAtFirstSight: undefined },
        ],
      );
      assert.equal((await db.policy.firstSightings('upstream:other', 'serde')).size, 0);
      assert.deepEqual(await policyChanges(db), [], 'sightings are no policy change');
    });

    it('lists the crates of a source seen (or published, by pubtime at first sight) since a time, in pages', async () => {
      const db = await fresh();
      const day = 86_400_000;
      const t = Date.parse(AT);
      const seen = (version: string, firstSeenAt: number, pubtime?: number) => ({ version, firstSeenAt, pubtimeAtFirstSight: pubtime });
      await db.policy.recordFirstSightings('upstream:up', 'old', [seen('1.0.0', t - 10 * day)]);
      await db.policy.recordFirstSightings('upstream:up', 'fresh-b', [seen('1.0.0', t - 10 * day), seen('1.1.0', t - day)]);
      await db.policy.recordFirstSightings('upstream:up', 'fresh-a', [seen('2.0.0', t)]);
      // Seen lately, but its pubtime then was long ago: its clock started then.
      await db.policy.recordFirstSightings('upstream:up', 'backdated', [seen('1.0.0', t, t - 30 * day)]);
      await db.policy.recordFirstSightings('upstream:other', 'elsewhere', [seen('1.0.0', t)]);
      const since = t - 3 * day;
      assert.deepEqual(await db.policy.cratesSeenSince('upstream:up', since, undefined, 10), ['fresh-a', 'fresh-b']);
      assert.deepEqual(await db.policy.cratesSeenSince('upstream:up', since, undefined, 1), ['fresh-a']);
      assert.deepEqual(await db.policy.cratesSeenSince('upstream:up', since, 'fresh-a', 10), ['fresh-b']);
      assert.deepEqual(await db.policy.cratesSeenSince('upstream:up', t + day, undefined, 10), []);
    });
  });
}
