// The Advisories repository's contract (ports/advisories.ts): a sync replaces one source's
// advisories and only that source's, atomically (a failing batch leaves the previous ones in
// force), every field comes back as stored, and each sync moves the latest sync id. Run on SQLite
// and PostgreSQL by metadata-repositories-*.test.ts.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Advisory } from '../../src/domain/advisory-file.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';

const AT = '2030-01-01T00:00:00.000Z';

export function advisory(id: string, pkg: string, extra: Partial<Advisory> = {}): Advisory {
  return {
    id,
    package: pkg,
    date: '2026-01-15',
    title: `${pkg} is broken`,
    description: 'Upgrade.',
    aliases: [],
    categories: [],
    patched: ['>= 1.0.1'],
    unaffected: [],
    ...extra,
  };
}

export function advisoriesContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`Advisories contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);
    const sync = (source: string, skipped = 0) => ({ source, origin: '/srv/advisory-db', syncedAt: AT, skipped });

    it('stores every field and finds a crate in any case, per source', async () => {
      const db = await fresh();
      const full = advisory('RUSTSEC-2026-0001', 'Foo_Bar', {
        url: 'https://example.com/1',
        withdrawn: '2026-02-01',
        informational: 'unsound',
        cvss: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
        cvssScore: 9.8,
        aliases: ['CVE-2026-1'],
        categories: ['memory-corruption'],
        patched: ['>= 1.2.3', '^0.9.7'],
        unaffected: ['< 0.5'],
      });
      const recorded = await db.advisories.replaceAll([full, advisory('RUSTSEC-2026-0002', 'other')], sync('upstream:crates-io', 3));
      assert.deepEqual(
        { ...recorded, id: undefined },
        { id: undefined, source: 'upstream:crates-io', origin: '/srv/advisory-db', syncedAt: AT, imported: 2, skipped: 3, withdrawn: 1 },
      );
      assert.deepEqual(await db.advisories.forCrate('upstream:crates-io', 'foo_bar'), [full]);
      assert.deepEqual(await db.advisories.forCrate('local', 'foo_bar'), []);
      assert.deepEqual(await db.advisories.lastSync('upstream:crates-io'), recorded);
      assert.equal(await db.advisories.lastSync('local'), undefined);
      assert.equal(await db.advisories.latestSyncId(), recorded.id);
    });

    it('replaces one source and leaves the others alone; each sync moves the latest id', async () => {
      const db = await fresh();
      assert.equal(await db.advisories.latestSyncId(), 0);
      const first = await db.advisories.replaceAll([advisory('RUSTSEC-2026-0001', 'foo')], sync('upstream:crates-io'));
      await db.advisories.replaceAll([advisory('RUSTSEC-2026-0009', 'foo')], sync('local'));
      const third = await db.advisories.replaceAll([advisory('RUSTSEC-2026-0003', 'foo')], sync('upstream:crates-io'));
      assert.ok(third.id > first.id);
      assert.equal(await db.advisories.latestSyncId(), third.id);
      assert.deepEqual(
        (await db.advisories.forCrate('upstream:crates-io', 'foo')).map((a) => a.id),
        ['RUSTSEC-2026-0003'],
      );
      assert.deepEqual(
        (await db.advisories.forCrate('local', 'foo')).map((a) => a.id),
        ['RUSTSEC-2026-0009'],
      );
    });

    it('keeps the previous advisories when a sync fails part-way', async () => {
      const db = await fresh();
      await db.advisories.replaceAll([advisory('RUSTSEC-2026-0001', 'foo')], sync('upstream:crates-io'));
      const latest = await db.advisories.latestSyncId();
      // The same id twice breaks the primary key in the second batch, after the delete and the first rows.
      const many = Array.from({ length: 450 }, (_, i) => advisory(`RUSTSEC-2026-${String(1000 + i)}`, 'bar'));
      many.push(advisory('RUSTSEC-2026-1000', 'bar'));
      await assert.rejects(db.advisories.replaceAll(many, sync('upstream:crates-io')));
      assert.deepEqual(
        (await db.advisories.forCrate('upstream:crates-io', 'foo')).map((a) => a.id),
        ['RUSTSEC-2026-0001'],
      );
      assert.deepEqual(await db.advisories.forCrate('upstream:crates-io', 'bar'), []);
      assert.equal(await db.advisories.latestSyncId(), latest);
    });

    it('stores many advisories in one sync', async () => {
      const db = await fresh();
      const many = Array.from({ length: 1200 }, (_, i) => advisory(`RUSTSEC-2026-${String(1000 + i)}`, `crate-${i % 300}`));
      const recorded = await db.advisories.replaceAll(many, sync('upstream:crates-io'));
      assert.equal(recorded.imported, 1200);
      assert.equal((await db.advisories.forCrate('upstream:crates-io', 'crate-7')).length, 4);
    });

    it('lists the crates of a source with advisories in force, lower-case, in pages', async () => {
      const db = await fresh();
      await db.advisories.replaceAll(
        [
          advisory('RUSTSEC-2026-0001', 'Zeta'),
          advisory('RUSTSEC-2026-0002', 'alpha'),
          advisory('RUSTSEC-2026-0003', 'alpha'),
          advisory('RUSTSEC-2026-0004', 'gone', { withdrawn: '2026-02-01' }),
          advisory('RUSTSEC-2026-0005', 'mid'),
        ],
        sync('upstream:crates-io'),
      );
      await db.advisories.replaceAll([advisory('RUSTSEC-2026-0009', 'local-only')], sync('local'));
      assert.deepEqual(await db.advisories.cratesWithAdvisories('upstream:crates-io', undefined, 10), ['alpha', 'mid', 'zeta']);
      assert.deepEqual(await db.advisories.cratesWithAdvisories('upstream:crates-io', undefined, 2), ['alpha', 'mid']);
      assert.deepEqual(await db.advisories.cratesWithAdvisories('upstream:crates-io', 'mid', 2), ['zeta']);
      assert.deepEqual(await db.advisories.cratesWithAdvisories('local', undefined, 10), ['local-only']);
    });
  });
}
