// Walks every crate a page at a time, in id order, reporting progress after each page: the shape of
// the rebuilds that migrations and imports run over all crates (download totals, index files), so a
// long one shows how far it is and no page holds more than `pageSize` crates in memory.

import type { Kysely, Selectable } from 'kysely';
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

type VersionRow = Selectable<Database['versions']>;

/**
 * The versions of a page's crates, by crate id, each crate's in publishing order, with `columns` of
 * each: one query for the page, where a query a crate would cost a round trip each on PostgreSQL.
 */
export async function versionsOfPage<C extends keyof VersionRow>(
  db: Kysely<Database>,
  page: readonly CratePageRow[],
  columns: readonly C[],
): Promise<Map<number, Pick<VersionRow, C>[]>> {
  const rows = (await db
    .selectFrom('versions')
    .select(['crate_id', ...columns])
    .where('crate_id', '>=', page[0]!.id)
    .where('crate_id', '<=', page[page.length - 1]!.id)
    .orderBy('crate_id')
    .orderBy('id')
    .execute()) as unknown as (Pick<VersionRow, C> & { crate_id: number })[];
  const versions = new Map<number, Pick<VersionRow, C>[]>();
  for (const row of rows) {
    const list = versions.get(row.crate_id);
    if (list === undefined) versions.set(row.crate_id, [row]);
    else list.push(row);
  }
  return versions;
}
