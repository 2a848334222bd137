// Each crate's sparse-index file as stored data (migration 14), as crates.io keeps its index: written
// in the transaction that changes the crate, so a read is one lookup that returns the bytes (or
// their gzip form, stored beside them since migration 18) and their ETag, whatever the crate's size,
// and a reader never sees a version before it is committed.
// A publish appends its line; a yank or unyank swaps its version's line; only the migration and an
// import render whole files. Every change first locks the crate's row of index_files (PostgreSQL;
// SQLite has one writer at a time), so two concurrent changes of one crate cannot lose each other's
// line.

import { createHash } from 'node:crypto';
import { sql, type CompiledQuery, type Kysely } from 'kysely';
import { renderIndexFile, renderIndexLine, type IndexEntry } from '../../domain/index-line.js';
import type { OnProgress } from '../../domain/progress.js';
import { gzipFormOf, type IndexFile, type IndexFileForm } from '../../domain/index-file.js';
import { forEachCratePage, versionsOfPage } from './crate-pages.js';
import type { Database } from './sql-schema.js';
import type { Db, SqlScope } from './sql-scope.js';
import { toStoredVersion } from './sql-rows.js';

export const INDEX_FILES_PHASE = 'rebuilding index files';
const PAGE = 500;

export function indexFileEtag(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

export async function readIndexFile(scope: SqlScope, lowerName: string, form: IndexFileForm): Promise<IndexFile | undefined> {
  if (scope.rules.name === 'postgres') return readIndexFileOnPostgres(scope.db, lowerName, form);
  const query = scope.db.selectFrom('index_files').select('etag').where('name_lower', '=', lowerName);
  if (form === 'identity') {
    const row = await query.select('body').executeTakeFirst();
    return row && { body: row.body, etag: row.etag };
  }
  // The bytes only when there is no gzip form: one of the two crosses from the database.
  const row = await query.select(['gzip', sql<Buffer | null>`case when gzip is null then body end`.as('body')]).executeTakeFirst();
  return row && oneForm(row.etag, row.body, row.gzip);
}

/**
 * PostgreSQL sends a `bytea` as hex text, twice the file's size, which the event loop then decodes:
 * about 15 % of the main thread's time during cold reads at 150,000 crates, in stalls of 60-80 ms
 * (bench/README.md). A stored file is UTF-8 JSON lines (rendered here, always valid UTF-8), so it is
 * sent as text instead: its own size, decoded and encoded again at memory speed, the same bytes. The
 * gzip form, a tenth of that size, is sent as a `bytea`.
 */
async function readIndexFileOnPostgres(db: Db, lowerName: string, form: IndexFileForm): Promise<IndexFile | undefined> {
  return (await readIndexFilesOnPostgres(db, [lowerName], indexFilesStatementOnPostgres(db, form))).get(lowerName);
}

/** The statement that reads index files of one form by lower-case name, with an array of names as its one parameter. */
export interface IndexFilesStatement {
  form: IndexFileForm;
  query: CompiledQuery;
}

/**
 * The statement of `readIndexFilesOnPostgres` for one form, compiled: its text is the same whatever
 * the names, so a batch of reads (postgres-index-reads.ts) compiles it once and binds its names,
 * and PostgreSQL connections keep it prepared.
 */
export function indexFilesStatementOnPostgres(db: Db, form: IndexFileForm): IndexFilesStatement {
  return { form, query: (form === 'identity' ? plainFilesQuery(db) : gzipFilesQuery(db)).compile() };
}

/** Several files in one query, by lower-case name (postgres-index-reads.ts batches reads with it). */
export async function readIndexFilesOnPostgres(
  db: Db,
  lowerNames: string[],
  statement: IndexFilesStatement,
): Promise<Map<string, IndexFile>> {
  const files = new Map<string, IndexFile>();
  const { rows } = await db.executeQuery<StoredFileRow>({ ...statement.query, parameters: [lowerNames] });
  for (const row of rows) {
    files.set(
      row.name_lower,
      statement.form === 'identity'
        ? { body: Buffer.from(row.text!, 'utf8'), etag: row.etag }
        : oneForm(row.etag, row.text === null ? null : Buffer.from(row.text, 'utf8'), row.gzip ?? null),
    );
  }
  return files;
}

/** A row of either statement: the plain form has no `gzip`, and its `text` is never null. */
interface StoredFileRow {
  name_lower: string;
  etag: string;
  gzip?: Buffer | null;
  text: string | null;
}

// The names are the one parameter, bound by each read (the compiled statement holds an empty array).
const filesQuery = (db: Db) =>
  db
    .selectFrom('index_files')
    .select(['name_lower', 'etag'])
    .where(sql<boolean>`name_lower = any(${[] as string[]})`);

const plainFilesQuery = (db: Db) => filesQuery(db).select(sql<string>`convert_from(body, 'UTF8')`.as('text'));

// The bytes only when there is no gzip form: one of the two crosses from the database.
const gzipFilesQuery = (db: Db) =>
  filesQuery(db).select(['gzip', sql<string | null>`case when gzip is null then convert_from(body, 'UTF8') end`.as('text')]);

function oneForm(etag: string, body: Buffer | null, gzipped: Buffer | null): IndexFile {
  if (gzipped !== null) return { gzipped, etag };
  if (body === null) throw new Error('a stored index file with neither its bytes nor their gzip form');
  return { body, etag };
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

/**
 * Stores a file with its ETag and its gzip form (null for a small file), made here unless the caller
 * made it already, so that no read has to compress it.
 */
async function storeIndexFile(db: Db, lowerName: string, body: Buffer, gzipForm?: Buffer | null): Promise<void> {
  const etag = indexFileEtag(body);
  const gzip = gzipForm === undefined ? await gzipFormOf(body) : gzipForm;
  await db
    .insertInto('index_files')
    .values({ name_lower: lowerName, body, etag, gzip })
    .onConflict((oc) => oc.column('name_lower').doUpdateSet({ body, etag, gzip }))
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
 * Renders every crate's file again, with its gzip form, a page of crates at a time, reporting
 * progress: migration 18 fills the table with it, and an import rebuilds the files of what it loaded.
 */
export async function rebuildIndexFiles(db: Kysely<Database>, onProgress: OnProgress): Promise<void> {
  const options = { pageSize: PAGE, phase: INDEX_FILES_PHASE, onProgress, nameInProgress: true };
  await forEachCratePage(db, options, async (page) => {
    const versions = await versionsOfPage(db, page, ['entry_json', 'yanked']);
    // The page's files are compressed together, on libuv's threads, while this thread renders.
    const bodies = page.map((crate) => {
      const list = versions.get(crate.id);
      return list === undefined ? undefined : Buffer.from(renderIndexFile(list.map(toStoredVersion)));
    });
    const gzipForms = await Promise.all(bodies.map((body) => (body === undefined ? null : gzipFormOf(body))));
    for (const [i, crate] of page.entries()) {
      const body = bodies[i];
      if (body === undefined) await db.deleteFrom('index_files').where('name_lower', '=', crate.name_lower).execute();
      else await storeIndexFile(db, crate.name_lower, body, gzipForms[i]);
    }
  });
}
