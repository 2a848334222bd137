// Checks a .crate file before it is stored: gzip, then tar, every entry a plain file or directory
// under `name-version/`, and a Cargo.toml whose package name and version match the metadata.
// Works on bytes in memory; knows nothing of HTTP or storage.

import { promisify } from 'node:util';
import { gunzip as gunzipCallback } from 'node:zlib';
import { extract } from 'tar-stream';
import { parse as parseToml } from 'smol-toml';
import { invalid, tooLarge } from './errors.js';

const gunzip = promisify(gunzipCallback);

export interface CrateTarballLimits {
  /** Largest unpacked size accepted (protects against compression bombs). */
  maxUnpackedBytes: number;
}

export interface CrateTarballContents {
  /** The parsed Cargo.toml of the package. */
  manifest: Record<string, unknown>;
  /** Number of files in the archive. */
  fileCount: number;
}

interface TarEntry {
  path: string;
  type: string;
  body: Buffer;
}

async function unpackGzip(bytes: Buffer, limits: CrateTarballLimits): Promise<Buffer> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw invalid('invalid-crate-file', 'the crate file is not gzip-compressed (a .crate is a .tar.gz)');
  }
  try {
    return await gunzip(bytes, { maxOutputLength: limits.maxUnpackedBytes });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge('crate-too-large', `the crate file unpacks to more than ${limits.maxUnpackedBytes} bytes`);
    }
    throw invalid('invalid-crate-file', `the crate file is not valid gzip: ${(error as Error).message}`);
  }
}

async function readTarEntries(tarBytes: Buffer): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const extractor = extract();
  const done = new Promise<void>((resolve, reject) => {
    extractor.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
      stream.on('end', () => {
        entries.push({ path: header.name, type: header.type ?? 'file', body: Buffer.concat(chunks) });
        next();
      });
      stream.on('error', reject);
    });
    extractor.on('finish', resolve);
    extractor.on('error', reject);
  });
  extractor.end(tarBytes);
  try {
    await done;
  } catch (error) {
    throw invalid('invalid-crate-file', `the crate file is not a valid tar archive: ${(error as Error).message}`);
  }
  if (entries.length === 0) {
    throw invalid('invalid-crate-file', 'the crate file is not a tar archive, or an empty one');
  }
  return entries;
}

function checkEntryPath(entry: TarEntry, prefix: string): void {
  const path = entry.path;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) {
    throw invalid('invalid-crate-file', `the crate file contains an absolute path: \`${path}\``);
  }
  if (path.split(/[/\\]/).includes('..')) {
    throw invalid('invalid-crate-file', `the crate file contains a path with \`..\`: \`${path}\``);
  }
  if (!path.startsWith(prefix)) {
    throw invalid('invalid-crate-file', `the crate file contains \`${path}\`, outside the \`${prefix}\` folder`);
  }
  if (entry.type === 'symlink' || entry.type === 'link') {
    throw invalid('invalid-crate-file', `the crate file contains a link: \`${path}\` (only files and folders are allowed)`);
  }
  if (entry.type !== 'file' && entry.type !== 'contiguous-file' && entry.type !== 'directory') {
    throw invalid('invalid-crate-file', `the crate file contains \`${path}\` of type ${entry.type} (only files and folders are allowed)`);
  }
}

function readManifest(entries: TarEntry[], prefix: string): Record<string, unknown> {
  const manifestEntry = entries.find((e) => e.path === `${prefix}Cargo.toml` && e.type !== 'directory');
  if (!manifestEntry) throw invalid('invalid-crate-file', `the crate file has no \`${prefix}Cargo.toml\``);
  try {
    return parseToml(manifestEntry.body.toString('utf8')) as Record<string, unknown>;
  } catch (error) {
    const firstLine = (error as Error).message.split('\n')[0];
    throw invalid('invalid-crate-file', `the crate's Cargo.toml is not valid TOML: ${firstLine}`);
  }
}

export async function inspectCrateTarball(
  bytes: Buffer,
  expected: { name: string; version: string },
  limits: CrateTarballLimits,
): Promise<CrateTarballContents> {
  const tarBytes = await unpackGzip(bytes, limits);
  const entries = await readTarEntries(tarBytes);
  const prefix = `${expected.name}-${expected.version}/`;
  for (const entry of entries) checkEntryPath(entry, prefix);

  const manifest = readManifest(entries, prefix);
  const pkg = manifest.package;
  if (typeof pkg !== 'object' || pkg === null) {
    throw invalid('invalid-crate-file', "the crate's Cargo.toml has no [package] table");
  }
  const { name, version } = pkg as { name?: unknown; version?: unknown };
  if (name !== expected.name) {
    throw invalid(
      'crate-metadata-mismatch',
      `the crate's Cargo.toml names package \`${String(name)}\`, but the publish metadata says \`${expected.name}\``,
    );
  }
  if (version !== expected.version) {
    throw invalid(
      'crate-metadata-mismatch',
      `the crate's Cargo.toml has version \`${String(version)}\`, but the publish metadata says \`${expected.version}\``,
    );
  }
  return { manifest, fileCount: entries.filter((e) => e.type !== 'directory').length };
}
