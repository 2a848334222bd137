// `cratekeeper export <folder>`: writes the configured registry (any database, any blob store) to
// an archive folder (archive-format.ts). Each .crate is checked against its version's `cksum` on
// the way out, so a damaged source is found at backup time, not at restore time.

import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { sql, type Kysely } from 'kysely';
import { schemaState } from '../adapters/metadata/migrations.js';
import type { Database } from '../adapters/metadata/sql-schema.js';
import type { Config } from '../config/schema.js';
import type { BlobStore } from '../ports/blob-store.js';
import { openBlobStore, openMetadataStore } from '../registry.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  ArchiveError,
  NOT_EXPORTED,
  blobFileOf,
  orderTables,
  type ArchiveManifest,
  type ArchiveTable,
} from './archive-format.js';

const PAGE = 5_000;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables are read generically, by name
type AnyDb = Kysely<any>;
type Row = Record<string, unknown>;

/** Tables without an id that grow with time (a row per version and day): read in pages of their key. */
const PAGED_BY_KEY: Record<string, string[]> = { version_downloads: ['crate', 'version', 'day'] };

async function* rowsByKey(db: AnyDb, table: string, key: string[]): AsyncGenerator<Row> {
  let last: Row | undefined;
  for (;;) {
    let query = db.selectFrom(table).selectAll().limit(PAGE);
    for (const column of key) query = query.orderBy(sql.ref(column));
    if (last) {
      const after = last;
      // A row-value comparison: SQLite and PostgreSQL both order it like the ORDER BY above.
      query = query.where(sql<boolean>`(${sql.join(key.map((c) => sql.ref(c)))}) > (${sql.join(key.map((c) => after[c]))})`);
    }
    const rows = (await query.execute()) as Row[];
    yield* rows;
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1];
  }
}

/** Every row of a table: by id pages when it has one, by key pages when it is large, else in one read (the small link tables). */
async function* rowsOf(db: AnyDb, table: string, columns: string[]): AsyncGenerator<Row> {
  const key = PAGED_BY_KEY[table];
  if (key && !columns.includes('id')) {
    yield* rowsByKey(db, table, key);
    return;
  }
  if (!columns.includes('id')) {
    yield* (await db.selectFrom(table).selectAll().orderBy(sql.ref(columns[0]!)).execute()) as Row[];
    return;
  }
  let after = -Infinity;
  for (;;) {
    let query = db.selectFrom(table).selectAll().orderBy('id').limit(PAGE);
    if (after !== -Infinity) query = query.where('id', '>', after);
    const rows = (await query.execute()) as Row[];
    yield* rows;
    if (rows.length < PAGE) return;
    after = Number(rows[rows.length - 1]!.id);
  }
}

async function writeTable(db: AnyDb, dir: string, table: string, columns: string[], onRow: (row: Row) => Promise<void>): Promise<ArchiveTable> {
  const file = `tables/${table}.jsonl`;
  const out = createWriteStream(join(dir, file));
  const hash = createHash('sha256');
  let rows = 0;
  for await (const row of rowsOf(db, table, columns)) {
    await onRow(row);
    const line = JSON.stringify(row) + '\n';
    hash.update(line);
    if (!out.write(line)) await once(out, 'drain');
    rows++;
  }
  out.end();
  await once(out, 'finish');
  return { name: table, file, rows, sha256: hash.digest('hex') };
}

async function copyBlob(blobs: BlobStore, dir: string, row: Row, seen: Set<string>): Promise<number> {
  const cksum = String(row.cksum);
  if (seen.has(cksum)) return 0;
  const blob = await blobs.open(String(row.blob_key));
  if (!blob) throw new ArchiveError(`the .crate of version row ${String(row.id)} (${String(row.blob_key)}) is missing from the blob store`);
  const part = join(dir, `${blobFileOf(cksum)}.part`);
  const out = createWriteStream(part);
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of blob.stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  const actual = hash.digest('hex');
  if (actual !== cksum) throw new ArchiveError(`${String(row.blob_key)} hashes to ${actual}, not to its index cksum ${cksum}: the source is damaged`);
  await rename(part, join(dir, blobFileOf(cksum)));
  seen.add(cksum);
  return size;
}

export async function exportRegistry(config: Config, dir: string): Promise<ArchiveManifest> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new ArchiveError(`${dir} is not empty; export into a new folder`);
  mkdirSync(join(dir, 'tables'), { recursive: true });
  mkdirSync(join(dir, 'blobs'), { recursive: true });
  const store = await openMetadataStore(config);
  const blobs = openBlobStore(config);
  try {
    const db = store.db as AnyDb;
    const tables = (await db.introspection.getTables()).filter((t) => !NOT_EXPORTED.has(t.name));
    const columnsOf = new Map(tables.map((t) => [t.name, t.columns.map((c) => c.name)]));
    const seen = new Set<string>();
    let bytes = 0;
    const written: ArchiveTable[] = [];
    // Tables are read one after another, not in one snapshot: export while nobody writes (stop
    // the replicas, or keep them read-only) for a consistent copy; import checks the references.
    for (const table of orderTables([...columnsOf.keys()])) {
      const onRow = table === 'versions' ? async (row: Row) => void (bytes += await copyBlob(blobs, dir, row, seen)) : async () => {};
      written.push(await writeTable(db, dir, table, columnsOf.get(table)!, onRow));
    }
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      formatVersion: ARCHIVE_FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      schemaMigrations: (await schemaState(store.db as Kysely<Database>)).applied,
      tables: written,
      blobs: { count: seen.size, bytes },
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } finally {
    await blobs.close();
    await store.close();
  }
}
