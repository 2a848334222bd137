// The DownloadCounts contract (migration 7): batched upserts that add, per day and per version
// totals, all-or-nothing batches, and concurrent writers that lose nothing. Run against SQLite and
// PostgreSQL by the download-counts-*.test.ts files.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { MIGRATIONS, type SqlDialectName } from '../../src/adapters/metadata/migrations.js';
import type { DownloadCounts, VersionDayCount } from '../../src/ports/download-counts.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';
import { migrateBefore } from './migrate-before.js';

export interface OpenedCounts {
  counts: DownloadCounts;
  close(): Promise<void>;
}

/** A database with the schema before migration 20 (no per-version totals), its history written as then. */
export interface CountsBeforeVersionTotals {
  addHistory(rows: readonly VersionDayCount[]): Promise<void>;
  /** Applies the remaining migrations and opens the store. */
  upgrade(): Promise<OpenedCounts>;
}

/** The download counts of an opened database, closed with it. */
export function countsOf(database: MetadataDatabase): OpenedCounts {
  return { counts: database.downloadCounts, close: () => database.close() };
}

/**
 * `db`, an empty database, migrated up to migration 20; `reopen` opens the same database applying
 * the remaining migrations.
 */
export async function countsBeforeVersionTotals(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an older schema than the typed one
  db: Kysely<any>,
  dialect: SqlDialectName,
  reopen: () => Promise<MetadataDatabase>,
): Promise<CountsBeforeVersionTotals> {
  await migrateBefore(db, dialect, 20, MIGRATIONS);
  return {
    addHistory: async (rows) =>
      void (await db
        .insertInto('version_downloads')
        .values([...rows])
        .execute()),
    async upgrade() {
      await db.destroy();
      return countsOf(await reopen());
    },
  };
}

const row = (crate: string, version: string, day: string, count: number): VersionDayCount => ({ crate, version, day, count });

export function downloadCountsContract(
  name: string,
  open: () => Promise<OpenedCounts>,
  /** For the migration's test; a run of the contract on another path to the same database leaves it out. */
  openBeforeVersionTotals?: () => Promise<CountsBeforeVersionTotals>,
): void {
  describe(`DownloadCounts contract: ${name}`, () => {
    const stores = freshPerTest(open);
    const fresh = async () => (await stores.fresh()).counts;

    it('knows no downloads of a crate nobody downloaded', async () => {
      const counts = await fresh();
      assert.deepEqual(await counts.daily('nothing', '2000-01-01'), []);
      assert.deepEqual(await counts.perVersion('nothing'), []);
      await counts.add([]);
    });

    it('adds to existing counts, and entries for one key within a batch add up', async () => {
      const counts = await fresh();
      await counts.add([row('serde', '1.0.0', '2024-05-01', 2), row('serde', '1.0.0', '2024-05-01', 3)]);
      await counts.add([row('serde', '1.0.0', '2024-05-01', 4), row('serde', '1.0.0', '2024-05-02', 1)]);
      assert.deepEqual(await counts.daily('serde', '2024-01-01'), [
        { day: '2024-05-01', count: 9 },
        { day: '2024-05-02', count: 1 },
      ]);
      assert.deepEqual(await counts.perVersion('serde'), [{ version: '1.0.0', count: 10 }]);
    });

    it('sums the versions of a crate per day from a given day on, oldest first, and keeps crates apart', async () => {
      const counts = await fresh();
      await counts.add([
        row('serde', '1.0.1', '2024-05-03', 5),
        row('serde', '1.0.0', '2024-05-03', 1),
        row('serde', '1.0.0', '2024-04-30', 7),
        row('serde', '1.0.0', '2024-05-01', 2),
        row('serde-json', '1.0.0', '2024-05-01', 100),
        row('other', '1.0.0', '2024-05-01', 50),
      ]);
      assert.deepEqual(await counts.daily('serde', '2024-05-01'), [
        { day: '2024-05-01', count: 2 },
        { day: '2024-05-03', count: 6 },
      ]);
      assert.deepEqual(await counts.daily('serde', '2024-05-04'), []);
      assert.deepEqual(await counts.perVersion('serde'), [
        { version: '1.0.1', count: 5 },
        { version: '1.0.0', count: 10 },
      ]);
    });

    it('lists per-version totals newest version first, by SemVer precedence', async () => {
      const counts = await fresh();
      const versions = ['1.9.0', '1.10.0', '1.0.0-beta.2', '1.0.0', '0.9.0', '1.0.0-beta.10', '2.0.0+build.5'];
      await counts.add(versions.map((v, i) => row('vers', v, '2024-05-01', i + 1)));
      assert.deepEqual(
        (await counts.perVersion('vers')).map((v) => v.version),
        ['2.0.0+build.5', '1.10.0', '1.9.0', '1.0.0', '1.0.0-beta.10', '1.0.0-beta.2', '0.9.0'],
      );
    });

    it('adds large batches, and a batch with a bad row adds nothing at all (so it can be retried)', async () => {
      const counts = await fresh();
      const days = Array.from({ length: 1_200 }, (_, i) => new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
      await counts.add(days.map((day) => row('big', '1.0.0', day, 1)));
      assert.equal((await counts.daily('big', '2000-01-01')).length, 1_200);

      // The bad row sorts last: earlier statements of the batch ran before it failed.
      const bad = [...days.map((day) => row('big', '1.0.0', day, 1)), row('zzz', '1.0.0', '2024-01-01', null as unknown as number)];
      await assert.rejects(counts.add(bad));
      assert.deepEqual(await counts.perVersion('big'), [{ version: '1.0.0', count: 1_200 }]);
      assert.deepEqual(await counts.perVersion('zzz'), []);
    });

    it('loses no count when writers add to the same rows at once', async () => {
      const counts = await fresh();
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          counts.add([row('busy', '1.0.0', '2024-05-01', 1), row('busy', `0.${i % 3}.0`, '2024-05-02', 2)]),
        ),
      );
      assert.deepEqual(await counts.daily('busy', '2024-05-01'), [
        { day: '2024-05-01', count: 12 },
        { day: '2024-05-02', count: 24 },
      ]);
      assert.deepEqual(await counts.perVersion('busy'), [
        { version: '1.0.0', count: 12 },
        { version: '0.2.0', count: 8 },
        { version: '0.1.0', count: 8 },
        { version: '0.0.0', count: 8 },
      ]);
    });

    if (openBeforeVersionTotals) {
      it('sums a history from before the per-version totals into them when migrating, and adds on from there', async () => {
        const before = await openBeforeVersionTotals();
        await before.addHistory([
          row('old', '1.0.0', '2023-01-01', 5),
          row('old', '1.0.0', '2023-01-02', 7),
          row('old', '0.9.0', '2023-01-01', 1),
          row('other', '1.0.0', '2023-01-01', 2),
        ]);
        const { counts, close } = await before.upgrade();
        try {
          assert.deepEqual(await counts.perVersion('old'), [
            { version: '1.0.0', count: 12 },
            { version: '0.9.0', count: 1 },
          ]);
          await counts.add([row('old', '1.0.0', '2023-01-02', 3)]);
          assert.deepEqual(await counts.perVersion('old'), [
            { version: '1.0.0', count: 15 },
            { version: '0.9.0', count: 1 },
          ]);
          assert.deepEqual(await counts.daily('old', '2023-01-02'), [{ day: '2023-01-02', count: 10 }]);
          assert.deepEqual(await counts.perVersion('other'), [{ version: '1.0.0', count: 2 }]);
        } finally {
          await close();
        }
      });
    }
  });
}
