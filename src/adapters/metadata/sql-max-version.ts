// The version a crate is shown at in search results (domain/max-version.ts), stored with it
// (crates.max_version, migration 22) so that a page of results reads one row a crate, not every
// version of each. It is computed again from the crate's versions in the transaction of each change
// to them (a publish, a yank or unyank), and for every crate by the migration and after an import.

import { sql, type Kysely } from 'kysely';
import { maxVersion } from '../../domain/max-version.js';
import type { OnProgress } from '../../domain/progress.js';
import { forEachCratePage, versionsOfPage } from './crate-pages.js';
import type { SqlDialectName } from './migrations.js';
import type { Database } from './sql-schema.js';
import type { Db } from './sql-scope.js';

const PAGE = 1000;
export const MAX_VERSIONS_PHASE = 'storing shown versions';

type Row = { vers: string; yanked: number };
const shown = (rows: readonly Row[]) => maxVersion(rows.map((r) => ({ entry: { vers: r.vers }, yanked: r.yanked === 1 })));

/** Stores the version a crate is shown at, from its versions as they are in this transaction. */
export async function refreshMaxVersion(db: Db, crateId: number): Promise<void> {
  const rows = await db.selectFrom('versions').select(['vers', 'yanked']).where('crate_id', '=', crateId).execute();
  await db
    .updateTable('crates')
    .set({ max_version: shown(rows) })
    .where('id', '=', crateId)
    .execute();
}

/**
 * Stores every crate's shown version, a page of crates at a time, reporting progress. On PostgreSQL
 * a page is one statement (a statement a crate took 31 s at 150,000 crates, in round trips).
 */
export async function rebuildMaxVersions(db: Kysely<Database>, dialect: SqlDialectName, onProgress: OnProgress): Promise<void> {
  await forEachCratePage(db, { pageSize: PAGE, phase: MAX_VERSIONS_PHASE, onProgress }, async (page) => {
    const versionsOf = await versionsOfPage(db, page, ['vers', 'yanked']);
    const shownOf = [...versionsOf].map(([id, versions]) => ({ id, shown: shown(versions) }));
    if (dialect === 'postgres') {
      const ids = shownOf.map((c) => c.id);
      const versions = shownOf.map((c) => c.shown);
      await sql`update crates set max_version = page.shown
        from unnest(${ids}::integer[], ${versions}::text[]) as page(id, shown) where crates.id = page.id`.execute(db);
    } else {
      for (const { id, shown } of shownOf) await db.updateTable('crates').set({ max_version: shown }).where('id', '=', id).execute();
    }
  });
}
