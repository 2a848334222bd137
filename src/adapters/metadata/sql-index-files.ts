// Each crate's sparse-index file as stored data (migration 14), as crates.io keeps its index: written
// in the transaction that changes the crate, so a read is one lookup that returns the bytes and
// their ETag, whatever the crate's size, and a reader never sees a version before it is committed.
// A publish appends its line; a yank or unyank swaps its version's line; only the migration and an
// import render whole files. Every change first locks the crate's row of index_files (PostgreSQL;
// SQLite has one writer at a time), so two concurrent changes of one crate cannot lose each other's
// line.

import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { renderIndexFile, renderIndexLine, type IndexEntry } from '../../domain/index-line.js';
import type { OnProgress } from '../../domain/progress.js';
import type { StoredIndexFile, StoredVersion } from '../../ports/crates.js';
import { forEachCratePage } from './crate-pages.js';
import type { Database } from './sql-schema.js';
import type { Db, SqlScope } from './sql-scope.js';
import { toStoredVersion } from './sql-rows.js';

export const INDEX_FILES_PHASE = 'rebuilding index files';
const PAGE = 500;

export function indexFileEtag(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

export async function readIndexFile(scope: SqlScope, lowerName: string): Promise<StoredIndexFile | undefined> {
  if (scope.rules.name === 'postgres') return readIndexFileAsText(scope.db, lowerName);
  const row = await scope.db.selectFrom('index_files').select(['body', 'etag']).where('name_lower', '=', lowerName).executeTakeFirst();
  return row && { body: row.body, etag: row.etag };
}

/**
 * PostgreSQL sends a `bytea` as hex text, twice the file's size, which the event loop then decodes:
 * about 15 % of the main thread's time during cold reads at 150,000 crates, in stalls of 60-80 ms
 * (bench/README.md). A stored file is UTF-8 JSON lines (rendered here, always valid UTF-8), so it is
 * sent as text instead: its own size, decoded and encoded again at memory speed, the same bytes.
 */
async function readIndexFileAsText(db: Db, lowerName: string): Promise<StoredIndexFile | undefined> {
  const row = await db
    .selectFrom('index_files')
    .select([sql<string>`convert_from(body, 'UTF8')`.as('text'), 'etag'])
    .where('name_lower', '=', lowerName)
    .executeTakeFirst();
  return row && { body: Buffer.from(row.text, 'utf8'), etag: row.etag };
}

/**
 * The stored file, locked until the transaction ends so that no other change of the crate interleaves.
 * A yank locks it before it reads the version's flag; a publish, after its version row is inserted.
 */
export async function lockIndexFile(tx: SqlScope, lowerName: string): Promise<Buffer | undefined> {
  let query = tx.db.selectFrom('index_files').select('body').where('name_lower', '=', lowerName);
  if (tx.rules.name === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row?.body;
}

async function storeIndexFile(db: Db, lowerName: string, body: Buffer): Promise<void> {
  const etag = indexFileEtag(body);
  await db
    .insertInto('index_files')
    .values({ name_lower: lowerName, body, etag })
    .onConflict((oc) => oc.column('name_lower').doUpdateSet({ body, etag }))
    .execute();
}

/** Renders the whole file from the crate's versions, in publish order. */
async function renderFromVersions(db: Db, crateId: number): Promise<Buffer> {
  const rows = await db.selectFrom('versions').select(['entry_json', 'yanked']).where('crate_id', '=', crateId).orderBy('id').execute();
  return Buffer.from(renderIndexFile(rows.map(toStoredVersion)));
}

/** In a publish's transaction, after the version row is inserted: the new version's line joins the file. */
export async function appendIndexLine(tx: SqlScope, crateId: number, lowerName: string, entry: IndexEntry): Promise<void> {
  const current = await lockIndexFile(tx, lowerName);
  const line = Buffer.from(renderIndexLine(entry, false) + '\n');
  const body = current === undefined ? await renderFromVersions(tx.db, crateId) : Buffer.concat([current, line]);
  await storeIndexFile(tx.db, lowerName, body);
}

/**
 * In a yank's or unyank's transaction: the version's line, rendered with its old flag, is replaced by
 * the same line with the new one. Should the stored file not hold that line exactly once (it always
 * does unless edited by hand), the whole file is rendered again instead.
 */
export async function replaceIndexLine(
  tx: SqlScope,
  crateId: number,
  lowerName: string,
  current: Buffer | undefined,
  entry: IndexEntry,
  yanked: boolean,
): Promise<void> {
  const before = Buffer.from(renderIndexLine(entry, !yanked) + '\n');
  const after = Buffer.from(renderIndexLine(entry, yanked) + '\n');
  const at = current === undefined ? -1 : lineStart(current, before);
  const body =
    at < 0 || current === undefined
      ? await renderFromVersions(tx.db, crateId)
      : Buffer.concat([current.subarray(0, at), after, current.subarray(at + before.length)]);
  await storeIndexFile(tx.db, lowerName, body);
}

/** Where `line` (ending in a newline) starts a line of `file` and occurs only once, else -1. */
function lineStart(file: Buffer, line: Buffer): number {
  let found = -1;
  for (let at = file.indexOf(line); at >= 0; at = file.indexOf(line, at + 1)) {
    if (at > 0 && file[at - 1] !== 0x0a) continue;
    if (found >= 0) return -1;
    found = at;
  }
  return found;
}

/**
 * Renders every crate's file again, a page of crates at a time, reporting progress: migration 14
 * fills the table with it, and an import rebuilds the files of what it loaded.
 */
export async function rebuildIndexFiles(db: Kysely<Database>, onProgress: OnProgress): Promise<void> {
  const options = { pageSize: PAGE, phase: INDEX_FILES_PHASE, onProgress, nameInProgress: true };
  await forEachCratePage(db, options, async (page) => {
    // One query for the page's versions: a query per crate would cost a round trip each on PostgreSQL.
    const rows = await db
      .selectFrom('versions')
      .select(['crate_id', 'entry_json', 'yanked'])
      .where('crate_id', '>=', page[0]!.id)
      .where('crate_id', '<=', page[page.length - 1]!.id)
      .orderBy('crate_id')
      .orderBy('id')
      .execute();
    const versions = new Map<number, StoredVersion[]>();
    for (const row of rows) {
      const list = versions.get(row.crate_id);
      if (list === undefined) versions.set(row.crate_id, [toStoredVersion(row)]);
      else list.push(toStoredVersion(row));
    }
    for (const crate of page) {
      const list = versions.get(crate.id);
      if (list === undefined) await db.deleteFrom('index_files').where('name_lower', '=', crate.name_lower).execute();
      else await storeIndexFile(db, crate.name_lower, Buffer.from(renderIndexFile(list)));
    }
  });
}
