// Walks every crate a page at a time, in id order, reporting progress after each page: the shape of
// the rebuilds that migrations and imports run over all crates (download totals, index files), so a
// long one shows how far it is and no page holds more than `pageSize` crates in memory.

import type { Kysely } from 'kysely';
import type { OnProgress } from '../../domain/progress.js';
import type { Database } from './sql-schema.js';

export interface CratePageRow {
  id: number;
  name_lower: string;
}

export async function forEachCratePage(
  db: Kysely<Database>,
  options: { pageSize: number; phase: string; onProgress: OnProgress; nameInProgress?: boolean },
  work: (page: CratePageRow[]) => Promise<void>,
): Promise<void> {
  const { n } = await db
    .selectFrom('crates')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  const total = Number(n);
  let done = 0;
  let after: number | undefined;
  for (;;) {
    let query = db.selectFrom('crates').select(['id', 'name_lower']).orderBy('id').limit(options.pageSize);
    if (after !== undefined) query = query.where('id', '>', after);
    const page = (await query.execute()).map((row) => ({ id: Number(row.id), name_lower: row.name_lower }));
    if (page.length === 0) return;
    await work(page);
    done += page.length;
    const last = page[page.length - 1]!;
    after = last.id;
    options.onProgress(options.phase, done, total, options.nameInProgress ? last.name_lower : undefined);
  }
}
