// Rebuilds the running download totals from their history (version_downloads): each crate's
// (crates.downloads, a page of crates at a time so that a long rebuild reports its progress) and each
// version's (version_download_totals). The migrations that added them fill them so, and an import
// rebuilds the totals of the history it loaded.

import { sql, type Kysely } from 'kysely';
import type { OnProgress } from '../../domain/progress.js';
import { forEachCratePage } from './crate-pages.js';
import type { Database } from './sql-schema.js';

const PAGE = 1_000;
export const DOWNLOAD_TOTALS_PHASE = 'rebuilding download totals';

export async function rebuildDownloadTotals(db: Kysely<Database>, onProgress: OnProgress): Promise<void> {
  await forEachCratePage(db, { pageSize: PAGE, phase: DOWNLOAD_TOTALS_PHASE, onProgress }, async (page) => {
    const first = page[0]!.id;
    const last = page[page.length - 1]!.id;
    await sql`update crates set downloads = coalesce((select sum(v.count) from version_downloads v where v.crate = crates.name_lower), 0)
      where id >= ${first} and id <= ${last}`.execute(db);
  });
}

/** Each version's total of all time (migration 20): summed from the history in one statement. */
export async function rebuildVersionDownloadTotals(db: Kysely<Database>): Promise<void> {
  await db.deleteFrom('version_download_totals').execute();
  await sql`insert into version_download_totals (crate, version, count)
    select crate, version, sum(count) from version_downloads group by crate, version`.execute(db);
}
