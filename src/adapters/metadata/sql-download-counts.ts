// Download counts in the metadata database (SQLite or PostgreSQL), through Kysely: one row per
// crate, version and UTC day, added to with an upsert so that replicas flushing at once never
// lose a count; each version's total (for crate pages) and each crate's (crates.downloads, for
// search) are added to in the same transaction.

import { compareVersions, tryParseVersion } from '../../domain/version.js';
import type { DownloadCounts, VersionDayCount } from '../../ports/download-counts.js';
import type { SqlScope } from './sql-scope.js';

// 4 parameters a row: far below SQLite's 32,766 and PostgreSQL's 65,535 per statement.
const BATCH = 500;

/**
 * One row per key, its counts summed, in key order: PostgreSQL refuses to update a row twice in one
 * upsert, and two replicas adding to the same rows then lock them in the same order.
 */
function sumPerKey<R extends { count: number }>(rows: readonly R[], keyOf: (row: R) => string): R[] {
  const sums = new Map<string, R>();
  for (const row of rows) {
    const key = keyOf(row);
    const seen = sums.get(key);
    if (seen) seen.count += row.count;
    else sums.set(key, { ...row });
  }
  return [...sums.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

export class SqlDownloadCounts implements DownloadCounts {
  constructor(private readonly scope: SqlScope) {}

  async add(counts: readonly VersionDayCount[]): Promise<void> {
    const rows = sumPerKey(
      counts.filter((c) => c.count !== 0).map(({ crate, version, day, count }) => ({ crate, version, day, count })),
      (row) => `${row.crate} ${row.version} ${row.day}`,
    );
    if (rows.length === 0) return;
    // One transaction: either every count is added or none (the caller retries the whole batch).
    await this.scope.atomically(async ({ db: tx }) => {
      for (let i = 0; i < rows.length; i += BATCH) {
        await tx
          .insertInto('version_downloads')
          .values(rows.slice(i, i + BATCH))
          .onConflict((oc) =>
            oc
              .columns(['crate', 'version', 'day'])
              .doUpdateSet((eb) => ({ count: eb('version_downloads.count', '+', eb.ref('excluded.count')) })),
          )
          .execute();
      }
      // Each version's total, which crate pages show.
      const totals = sumPerKey(
        rows.map(({ crate, version, count }) => ({ crate, version, count })),
        (row) => `${row.crate} ${row.version}`,
      );
      for (let i = 0; i < totals.length; i += BATCH) {
        await tx
          .insertInto('version_download_totals')
          .values(totals.slice(i, i + BATCH))
          .onConflict((oc) =>
            oc
              .columns(['crate', 'version'])
              .doUpdateSet((eb) => ({ count: eb('version_download_totals.count', '+', eb.ref('excluded.count')) })),
          )
          .execute();
      }
      // Each crate's total too, which search orders by.
      const perCrate = sumPerKey(
        rows.map(({ crate, count }) => ({ crate, count })),
        (row) => row.crate,
      );
      for (const { crate, count } of perCrate) {
        await tx
          .updateTable('crates')
          .set((eb) => ({ downloads: eb('downloads', '+', count) }))
          .where('name_lower', '=', crate)
          .execute();
      }
    });
  }

  async daily(lowerName: string, sinceDay: string): Promise<{ day: string; count: number }[]> {
    const rows = await this.scope.db
      .selectFrom('version_downloads')
      .select((eb) => ['day', eb.fn.sum<number | string>('count').as('total')])
      .where('crate', '=', lowerName)
      .where('day', '>=', sinceDay)
      .groupBy('day')
      .orderBy('day')
      .execute();
    // PostgreSQL's sum of integers is a bigint, which `pg` returns as a string.
    return rows.map((r) => ({ day: r.day, count: Number(r.total) }));
  }

  async perVersion(lowerName: string): Promise<{ version: string; count: number }[]> {
    const rows = await this.scope.db
      .selectFrom('version_download_totals')
      .select(['version', 'count'])
      .where('crate', '=', lowerName)
      .execute();
    // PostgreSQL's bigint comes from `pg` as a string.
    const counts = rows.map((r) => ({ version: r.version, count: Number(r.count), parsed: tryParseVersion(r.version) }));
    counts.sort((a, b) => {
      if (a.parsed && b.parsed) return compareVersions(b.parsed, a.parsed) || (a.version < b.version ? -1 : 1);
      if (a.parsed || b.parsed) return a.parsed ? -1 : 1;
      return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
    });
    return counts.map(({ version, count }) => ({ version, count }));
  }
}
