// `cratekeeper export <folder>`: writes the configured registry (any database, any blob store) to
// an archive folder (archive-format.ts). Each .crate is checked against its version's `cksum` on
// the way out, so a damaged source is found at backup time, not at restore time.

import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import type { Config } from '../config/schema.js';
import { noProgress, type OnProgress } from '../domain/progress.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { RegistryTables, TableRow } from '../ports/registry-tables.js';
import { openBlobStore, openMetadataDatabase } from '../registry.js';
import { docsArchiveKey, docsSha256Of } from '../services/docs-store.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  ArchiveError,
  NOT_EXPORTED,
  blobFileOf,
  docsFileOf,
  versionLabel,
  orderTables,
  type ArchiveManifest,
  type ArchiveTable,
} from './archive-format.js';

async function writeTable(
  tables: RegistryTables,
  dir: string,
  table: string,
  columns: string[],
  onRow: (row: TableRow) => Promise<void>,
): Promise<ArchiveTable> {
  const file = `tables/${table}.jsonl`;
  const out = createWriteStream(join(dir, file));
  const hash = createHash('sha256');
  let rows = 0;
  for await (const row of tables.rows(table, columns)) {
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

async function copyBlob(blobs: BlobStore, dir: string, row: TableRow, seen: Set<string>): Promise<number> {
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
  if (actual !== cksum)
    throw new ArchiveError(`${String(row.blob_key)} hashes to ${actual}, not to its index cksum ${cksum}: the source is damaged`);
  await rename(part, join(dir, blobFileOf(cksum)));
  seen.add(cksum);
  return size;
}

/** A doc_builds row's rustdoc archive, checked against the SHA-256 its docs key names. */
async function copyDocs(blobs: BlobStore, dir: string, row: TableRow): Promise<number> {
  if (row.docs_key === null || row.docs_key === undefined) return 0;
  const docsKey = String(row.docs_key);
  const sha = docsSha256Of(docsKey);
  const blob = await blobs.open(docsArchiveKey(docsKey));
  if (!blob)
    throw new ArchiveError(`the docs of doc_builds row ${String(row.id)} (${docsArchiveKey(docsKey)}) are missing from the blob store`);
  const chunks: Buffer[] = [];
  for await (const chunk of blob.stream as AsyncIterable<Buffer>) chunks.push(chunk);
  const bytes = Buffer.concat(chunks);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha) throw new ArchiveError(`${docsArchiveKey(docsKey)} hashes to ${actual}, not to ${sha}: the source is damaged`);
  writeFileSync(join(dir, docsFileOf(sha)), bytes);
  return bytes.length;
}

async function countRows(tables: RegistryTables, table: string, columns: string[]): Promise<number> {
  let n = 0;
  for await (const _ of tables.rows(table, columns)) n++;
  return n;
}

/** `onProgress` hears of each table written and each .crate copied (the long part). */
export async function exportRegistry(config: Config, dir: string, onProgress: OnProgress = noProgress): Promise<ArchiveManifest> {
  if (existsSync(dir) && readdirSync(dir).length > 0) throw new ArchiveError(`${dir} is not empty; export into a new folder`);
  mkdirSync(join(dir, 'tables'), { recursive: true });
  mkdirSync(join(dir, 'blobs'), { recursive: true });
  mkdirSync(join(dir, 'docs'), { recursive: true });
  const database = await openMetadataDatabase(config);
  const blobs = await openBlobStore(config);
  try {
    const columnsOf = new Map([...(await database.tables.columns())].filter(([name]) => !NOT_EXPORTED.has(name)));
    const seen = new Set<string>();
    let bytes = 0;
    const written: ArchiveTable[] = [];
    // Tables are read one after another, not in one snapshot: export while nobody writes (stop
    // the replicas, or keep them read-only) for a consistent copy; import checks the references.
    const order = orderTables([...columnsOf.keys()]);
    const versionCount = columnsOf.has('versions') ? await countRows(database.tables, 'versions', columnsOf.get('versions')!) : 0;
    let versionsDone = 0;
    const onVersion = async (row: TableRow) => {
      bytes += await copyBlob(blobs, dir, row, seen);
      onProgress('copying .crate files', ++versionsDone, versionCount, versionLabel(row));
    };
    const docs = { count: 0, bytes: 0 };
    const onDocBuild = async (row: TableRow) => {
      const size = await copyDocs(blobs, dir, row);
      if (row.docs_key !== null) docs.count++;
      docs.bytes += size;
    };
    for (const [i, table] of order.entries()) {
      const onRow = table === 'versions' ? onVersion : table === 'doc_builds' ? onDocBuild : async () => {};
      const result = await writeTable(database.tables, dir, table, columnsOf.get(table)!, onRow);
      written.push(result);
      onProgress('exporting tables', i + 1, order.length, `${table} (${result.rows} rows)`);
    }
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      formatVersion: ARCHIVE_FORMAT_VERSION,
      createdAt: new Date().toISOString(),
      schemaMigrations: (await database.schemaState()).applied,
      tables: written,
      blobs: { count: seen.size, bytes },
      docs,
    };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } finally {
    await blobs.close();
    await database.close();
  }
}
