// `cratekeeper import <folder>`: loads an export archive (archive-format.ts) into the configured
// registry, which must be empty (a database that no server has started on, or one just created).
// Everything is checked before anything is written to the database: the manifest's checksum of
// every table file, and every .crate against its version's `cksum` in the row and in the index
// entry. Blobs go in first, then all rows in one transaction: a failed import leaves the
// database empty (at worst, blobs nobody points to).

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Config } from '../config/schema.js';
import { noProgress, type OnProgress } from '../domain/progress.js';
import { unpackDocsArchive } from '../domain/docs-archive.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { TableRow } from '../ports/registry-tables.js';
import { docsArchiveKey, docsFileKey, docsSha256Of } from '../services/docs-store.js';
import { openBlobStore, openMetadataDatabase } from '../registry.js';
import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  ArchiveError,
  blobFileOf,
  docsFileOf,
  orderTables,
  versionLabel,
  type ArchiveManifest,
} from './archive-format.js';

async function* linesOf(file: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) if (line !== '') yield line;
}

async function* rowsIn(file: string): AsyncGenerator<TableRow> {
  for await (const line of linesOf(file)) yield JSON.parse(line) as TableRow;
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function readManifest(dir: string): ArchiveManifest {
  const file = join(dir, 'manifest.json');
  if (!existsSync(file)) throw new ArchiveError(`${dir} is not a cratekeeper export (no manifest.json)`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as ArchiveManifest;
  if (manifest.format !== ARCHIVE_FORMAT || manifest.formatVersion > ARCHIVE_FORMAT_VERSION) {
    throw new ArchiveError(`${dir}: unknown archive format ${manifest.format} ${manifest.formatVersion}`);
  }
  return manifest;
}

export interface ImportResult {
  rows: number;
  blobs: number;
}

/** Stores a version's docs archive and its unpacked files, as DocsStore.store does. */
async function restoreDocs(blobs: BlobStore, dir: string, docsKey: string, config: Config): Promise<void> {
  const sha = docsSha256Of(docsKey);
  const file = join(dir, docsFileOf(sha));
  if (!existsSync(file)) throw new ArchiveError(`the archive lacks ${docsFileOf(sha)} (docs ${docsKey})`);
  const bytes = readFileSync(file);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha) throw new ArchiveError(`${docsFileOf(sha)} is damaged: its SHA-256 is ${actual}`);
  const files = await unpackDocsArchive(bytes, { maxUnpackedBytes: config.docs.max_unpacked_size, maxEntries: config.docs.max_files });
  for (const entry of files) await blobs.put(docsFileKey(docsKey, entry.path), Buffer.from(entry.bytes));
  await blobs.put(docsArchiveKey(docsKey), bytes);
}

/** `onProgress` hears of the checks, each .crate stored, the rows loaded and the totals rebuilt. */
export async function importRegistry(config: Config, dir: string, onProgress: OnProgress = noProgress): Promise<ImportResult> {
  const manifest = readManifest(dir);
  for (const [i, table] of manifest.tables.entries()) {
    const actual = await sha256OfFile(join(dir, table.file));
    if (actual !== table.sha256)
      throw new ArchiveError(`${table.file} is damaged: its SHA-256 is ${actual}, the manifest says ${table.sha256}`);
    onProgress('checking table files', i + 1, manifest.tables.length, table.file);
  }

  const database = await openMetadataDatabase(config);
  const blobs = await openBlobStore(config);
  try {
    const state = await database.schemaState();
    const missing = manifest.schemaMigrations.filter((v) => !state.applied.includes(v));
    if (missing.length > 0) {
      throw new ArchiveError(
        `the archive comes from a newer schema (migrations ${missing.join(', ')} are not applied here); upgrade cratekeeper, or run cratekeeper migrate on the target`,
      );
    }
    const targetTables = await database.tables.columns();
    for (const table of manifest.tables) {
      if (!targetTables.has(table.name)) throw new ArchiveError(`the target database has no table ${table.name}`);
      if (await database.tables.hasRows(table.name))
        throw new ArchiveError(`the target registry is not empty (table ${table.name} has rows); import only into a new registry`);
    }

    // Every .crate, checked against the version's cksum (row and index entry) before it is stored.
    const versions = manifest.tables.find((t) => t.name === 'versions');
    let blobCount = 0;
    const stored = new Set<string>();
    if (versions) {
      let checked = 0;
      for await (const line of linesOf(join(dir, versions.file))) {
        const row = JSON.parse(line) as TableRow;
        const stepDone = () => onProgress('storing .crate files', ++checked, versions.rows, versionLabel(row));
        const cksum = String(row.cksum);
        const entryCksum = (JSON.parse(String(row.entry_json)) as { cksum?: string }).cksum;
        if (entryCksum !== cksum)
          throw new ArchiveError(`version row ${String(row.id)}: index cksum ${entryCksum} differs from the row's ${cksum}`);
        const file = join(dir, blobFileOf(cksum));
        if (!existsSync(file)) throw new ArchiveError(`the archive lacks ${blobFileOf(cksum)} (version row ${String(row.id)})`);
        const bytes = readFileSync(file);
        const actual = createHash('sha256').update(bytes).digest('hex');
        if (actual !== cksum) throw new ArchiveError(`${blobFileOf(cksum)} is damaged: its SHA-256 is ${actual}`);
        const key = String(row.blob_key);
        if (!stored.has(key)) {
          await blobs.put(key, bytes);
          stored.add(key);
          blobCount++;
        }
        stepDone();
      }
    }

    // Every rustdoc archive, checked against the SHA-256 its docs key names, stored and unpacked anew.
    const docBuilds = manifest.tables.find((t) => t.name === 'doc_builds');
    if (docBuilds) {
      let done = 0;
      for await (const line of linesOf(join(dir, docBuilds.file))) {
        const row = JSON.parse(line) as TableRow;
        if (row.docs_key !== null && row.docs_key !== undefined) {
          await restoreDocs(blobs, dir, String(row.docs_key), config);
        }
        onProgress('storing docs', ++done, docBuilds.rows, `${String(row.crate)} ${String(row.version)}`);
      }
    }

    // All rows in one transaction, parents before children; the ids they had are kept.
    const files = new Map(manifest.tables.map((t) => [t.name, join(dir, t.file)]));
    const totalRows = manifest.tables.reduce((n, t) => n + t.rows, 0);
    let loaded = 0;
    async function* counted(name: string): AsyncGenerator<TableRow> {
      for await (const row of rowsIn(files.get(name)!)) {
        yield row;
        onProgress('loading rows', ++loaded, totalRows, name);
      }
    }
    const rows = await database.tables.load(orderTables([...files.keys()]), counted, onProgress);
    return { rows, blobs: blobCount };
  } finally {
    await blobs.close();
    await database.close();
  }
}
