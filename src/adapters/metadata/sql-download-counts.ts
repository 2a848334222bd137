// Download counts in the metadata database (SQLite or PostgreSQL), through Kysely: one row per
// crate, version and UTC day, added to with an upsert so that replicas flushing at once never
// lose a count; each version's total (for crate pages) and each crate's (crates.downloads, for
// search) are added to in the same transaction.

import { compareVersions, tryParseVersion } from '../../domain/version.js';
import type { DownloadCounts, VersionDayCount } from '../../ports/download-counts.js';
import type { SqlScope } from './sql-scope.js';

// 4 parameters a row: far below SQLite's 32,766 and PostgreSQL's 65,535 per statement.
const BATCH = 500;

export class SqlDownloadCounts implements DownloadCounts {
  constructor(private readonly scope: SqlScope) {}

  async add(counts: readonly VersionDayCount[]): Promise<void> {
    // One row per key in a statement (PostgreSQL refuses to update a row twice in one upsert),
    // in key order (two replicas upserting the same rows then lock them in the same order).
    const merged = new Map<string, VersionDayCount>();
    for (const c of counts) {
      if (c.count === 0) continue;
      const key = `${c.crate} ${c.version} ${c.day}`;
      const seen = merged.get(key);
      if (seen) seen.count += c.count;
      else merged.set(key, { crate: c.crate, version: c.version, day: c.day, count: c.count });
    }
    const rows = [...merged.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
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
      // Each version's total, which crate pages show; in key order, as the rows above.
      const perVersion = new Map<string, { crate: string; version: string; count: number }>();
      for (const { crate, version, count } of rows) {
        const key = `${crate} ${version}`;
        const seen = perVersion.get(key);
        if (seen) seen.count += count;
        else perVersion.set(key, { crate, version, count });
      }
      const totals = [...perVersion.values()];
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
      // Each crate's total too, which search orders by; in name order, as the rows above.
      const perCrate = new Map<string, number>();
      for (const row of rows) perCrate.set(row.crate, (perCrate.get(row.crate) ?? 0) + row.count);
      for (const [crate, count] of perCrate) {
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
