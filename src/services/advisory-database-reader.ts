// Reads the files of a RustSec advisory database from where an operator has it: a folder (a git
// clone works as is; .git is never entered), a `.tar.gz` of one (GitHub's archive layout, one
// top-level folder, or none), or an http(s) URL of such an archive. Only `.md` files under
// `crates/` are returned, with paths relative to the database's root (`crates/<name>/<id>.md`);
// a file too large to be an advisory comes back without its text, for the parser to refuse.

import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { MAX_ADVISORY_FILE_BYTES } from '../domain/advisory-file.js';
import { RegistryError } from '../domain/errors.js';

export interface AdvisoryDatabaseFile {
  path: string;
  /** Undefined when the file is larger than MAX_ADVISORY_FILE_BYTES. */
  text: string | undefined;
}

/** Past this many files under crates/, the input is not an advisory database (RustSec has ~1,000). */
const MAX_FILES = 100_000;
const DOWNLOAD_TIMEOUT_MS = 300_000;

/** Reads every advisory file of the database at `from` (folder, .tar.gz or URL); throws `advisory-sync-failed` saying why. */
export async function readAdvisoryDatabase(from: string): Promise<AdvisoryDatabaseFile[]> {
  try {
    if (/^https?:\/\//i.test(from)) return await readArchive(await download(from));
    const info = await lstat(from);
    if (info.isDirectory()) return await readFolder(from);
    return await readArchive(createReadStream(from));
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw syncFailed(`could not read ${from}: ${error instanceof Error ? error.message : String(error)}`, error);
  }
}

export function syncFailed(message: string, cause?: unknown): RegistryError {
  return new RegistryError('invalid', 'advisory-sync-failed', message, { cause });
}

async function readFolder(root: string): Promise<AdvisoryDatabaseFile[]> {
  // A folder holding one folder with crates/ in it (an unpacked GitHub archive) is read from there.
  let base = root;
  if (!(await isFolder(join(root, 'crates')))) {
    const inner = (await readdir(root, { withFileTypes: true })).filter((e) => e.isDirectory() && e.name !== '.git');
    if (inner.length === 1 && (await isFolder(join(root, inner[0]!.name, 'crates')))) base = join(root, inner[0]!.name);
    else throw syncFailed(`${root} is not an advisory database: it has no crates/ folder`);
  }
  const files: AdvisoryDatabaseFile[] = [];
  const walk = async (relative: string): Promise<void> => {
    for (const entry of await readdir(join(base, relative), { withFileTypes: true })) {
      const path = `${relative}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && entry.name.endsWith('.md')) {
        if (files.length >= MAX_FILES) throw syncFailed(`${root} has more than ${MAX_FILES} files under crates/: not an advisory database`);
        const size = (await lstat(join(base, path))).size;
        files.push({ path, text: size > MAX_ADVISORY_FILE_BYTES ? undefined : await readFile(join(base, path), 'utf8') });
      }
    }
  };
  await walk('crates');
  return files;
}

async function isFolder(path: string): Promise<boolean> {
  return lstat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function download(url: string): Promise<Readable> {
  const response = await fetch(url, { signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS), redirect: 'follow' });
  if (!response.ok || !response.body) throw syncFailed(`could not download ${url}: HTTP ${response.status}`);
  return Readable.fromWeb(response.body as ReadableStream);
}

/** Entries of a .tar.gz: `crates/...` at the top, or under one top-level folder (`advisory-db-main/crates/...`). */
async function readArchive(input: Readable): Promise<AdvisoryDatabaseFile[]> {
  const files: AdvisoryDatabaseFile[] = [];
  const tar = extract();
  const done = new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, stream, next) => {
      const path = advisoryPathIn(header.name);
      if (header.type !== 'file' || path === undefined) {
        stream.resume();
        stream.on('end', next);
        return;
      }
      if (files.length >= MAX_FILES) {
        reject(syncFailed(`the archive has more than ${MAX_FILES} files under crates/: not an advisory database`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (chunk: unknown) => {
        size += (chunk as Buffer).length;
        if (size <= MAX_ADVISORY_FILE_BYTES) chunks.push(chunk as Buffer);
      });
      stream.on('end', () => {
        files.push({ path, text: size > MAX_ADVISORY_FILE_BYTES ? undefined : Buffer.concat(chunks).toString('utf8') });
        next();
      });
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
  });
  const gunzip = createGunzip();
  const failed = (error: Error) => tar.destroy(error);
  input.on('error', failed);
  gunzip.on('error', failed);
  input.pipe(gunzip).pipe(tar);
  await done;
  return files;
}

/** `crates/<...>.md` relative to the database's root, or undefined for any other entry. */
function advisoryPathIn(name: string): string | undefined {
  const parts = name.replace(/^\.\//, '').split('/');
  const at = parts[0] === 'crates' ? 0 : parts[1] === 'crates' ? 1 : -1;
  if (at === -1 || parts.includes('.git') || parts.includes('..')) return undefined;
  const path = parts.slice(at).join('/');
  return path.endsWith('.md') ? path : undefined;
}
