// RustSec advisories in SQL (migration 11): one row per advisory and source, lists as JSON text,
// the CVSS score in tenths (exact on both databases); advisory_syncs records each sync.

import type { Selectable } from 'kysely';
import type { Advisory } from '../../domain/advisory-file.js';
import type { Advisories, AdvisorySourceKey, AdvisorySync, NewAdvisorySync } from '../../ports/advisories.js';
import { SqlChangeLog } from './sql-change-log.js';
import type { SqlScope } from './sql-scope.js';
import type { Database } from './sql-schema.js';

/** Rows per INSERT: 16 columns each stays far below SQLite's and PostgreSQL's parameter limits. */
const BATCH = 200;

export class SqlAdvisories implements Advisories {
  constructor(private readonly scope: SqlScope) {}

  replaceAll(advisories: readonly Advisory[], sync: NewAdvisorySync): Promise<AdvisorySync> {
    return this.scope.atomically(async (tx) => {
      await tx.db.deleteFrom('advisories').where('source', '=', sync.source).execute();
      for (let i = 0; i < advisories.length; i += BATCH) {
        const rows = advisories.slice(i, i + BATCH).map((a) => toRow(sync.source, a));
        await tx.db.insertInto('advisories').values(rows).execute();
      }
      const record = {
        source: sync.source,
        origin: sync.origin,
        synced_at: sync.syncedAt,
        imported: advisories.length,
        skipped: sync.skipped,
        withdrawn: advisories.filter((a) => a.withdrawn !== undefined).length,
      };
      // Every replica's advisory rule reloads on this change (src/registry.ts).
      await new SqlChangeLog(tx).record('policy', 'advisories');
      const inserted = await tx.db.insertInto('advisory_syncs').values(record).returning('id').executeTakeFirstOrThrow();
      return toSync({ ...record, id: Number(inserted.id) });
    });
  }

  async forCrate(source: AdvisorySourceKey, crate: string): Promise<Advisory[]> {
    const rows = await this.scope.db
      .selectFrom('advisories')
      .selectAll()
      .where('source', '=', source)
      .where('crate_key', '=', crate.toLowerCase())
      .orderBy('date', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toAdvisory);
  }

  async cratesWithAdvisories(source: AdvisorySourceKey, after: string | undefined, limit: number): Promise<string[]> {
    let query = this.scope.db
      .selectFrom('advisories')
      .select('crate_key')
      .distinct()
      .where('source', '=', source)
      .where('withdrawn', 'is', null);
    if (after !== undefined) query = query.where('crate_key', '>', after);
    const rows = await query.orderBy('crate_key').limit(limit).execute();
    return rows.map((r) => r.crate_key);
  }

  async latestSyncId(): Promise<number> {
    const row = await this.scope.db
      .selectFrom('advisory_syncs')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirst();
    return Number(row?.id ?? 0);
  }

  async lastSync(source: AdvisorySourceKey): Promise<AdvisorySync | undefined> {
    const row = await this.scope.db
      .selectFrom('advisory_syncs')
      .selectAll()
      .where('source', '=', source)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && toSync(row);
  }
}

function toRow(source: AdvisorySourceKey, a: Advisory): Selectable<Database['advisories']> {
  return {
    source,
    id: a.id,
    package: a.package,
    crate_key: a.package.toLowerCase(),
    date: a.date,
    title: a.title,
    description: a.description,
    url: a.url ?? null,
    withdrawn: a.withdrawn ?? null,
    informational: a.informational ?? null,
    cvss: a.cvss ?? null,
    cvss_tenths: a.cvssScore === undefined ? null : Math.round(a.cvssScore * 10),
    aliases: JSON.stringify(a.aliases),
    categories: JSON.stringify(a.categories),
    patched: JSON.stringify(a.patched),
    unaffected: JSON.stringify(a.unaffected),
  };
}

function toAdvisory(row: Selectable<Database['advisories']>): Advisory {
  return {
    id: row.id,
    package: row.package,
    date: row.date,
    title: row.title,
    description: row.description,
    ...(row.url !== null && { url: row.url }),
    ...(row.withdrawn !== null && { withdrawn: row.withdrawn }),
    ...(row.informational !== null && { informational: row.informational }),
    ...(row.cvss !== null && { cvss: row.cvss }),
    ...(row.cvss_tenths !== null && { cvssScore: Number(row.cvss_tenths) / 10 }),
    aliases: JSON.parse(row.aliases) as string[],
    categories: JSON.parse(row.categories) as string[],
    patched: JSON.parse(row.patched) as string[],
    unaffected: JSON.parse(row.unaffected) as string[],
  };
}

function toSync(row: Selectable<Database['advisory_syncs']>): AdvisorySync {
  return {
    id: Number(row.id),
    source: row.source,
    origin: row.origin,
    syncedAt: row.synced_at,
    imported: Number(row.imported),
    skipped: Number(row.skipped),
    withdrawn: Number(row.withdrawn),
  };
}
