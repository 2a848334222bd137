// Rebuilds each crate's running download total (crates.downloads) from its history
// (version_downloads), a page of crates at a time so that a long rebuild reports its progress:
// migration 8 fills the new column with it, and an import rebuilds the totals it loaded.

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
