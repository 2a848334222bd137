// Checks a .crate file before it is stored: gzip, then tar, every entry a plain file or directory
// under `name-version/`, no path twice, and a Cargo.toml whose package name and version match the
// metadata. The archive is checked as a stream: memory holds the compressed bytes, zlib's and tar's
// small buffers and the manifest, never the unpacked archive, whatever it unpacks to. Counts are
// bounded (unpacked bytes, entries, manifest size) so that a hostile archive is refused early.
// Knows nothing of HTTP or storage; the publish service runs it on a worker thread.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { parse as parseToml } from 'smol-toml';
import { invalid, RegistryError, tooLarge } from './errors.js';

export interface CrateTarballLimits {
  /** Largest unpacked size accepted (protects against compression bombs). */
  maxUnpackedBytes: number;
  /** Most entries (files and folders) accepted. */
  maxEntries: number;
  /** Largest Cargo.toml accepted. */
  maxManifestBytes: number;
}

export interface CrateTarballContents {
  /** The parsed Cargo.toml of the package. */
  manifest: Record<string, unknown>;
  /** Number of files in the archive. */
  fileCount: number;
}

const notValid = (message: string) => invalid('invalid-crate-file', message);

function checkEntry(header: Header, prefix: string): void {
  const path = header.name;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) throw notValid(`the crate file contains an absolute path: \`${path}\``);
  if (path.split(/[/\\]/).includes('..')) throw notValid(`the crate file contains a path with \`..\`: \`${path}\``);
  if (!path.startsWith(prefix)) throw notValid(`the crate file contains \`${path}\`, outside the \`${prefix}\` folder`);
  const type = header.type ?? 'file';
  if (type === 'symlink' || type === 'link') {
    throw notValid(`the crate file contains a link: \`${path}\` (only files and folders are allowed)`);
  }
  if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') {
    throw notValid(`the crate file contains \`${path}\` of type ${type} (only files and folders are allowed)`);
  }
}

/**
 * The form under which two paths name the same file on some system a crate is unpacked on:
 * without `.` segments, repeated or trailing slashes, in one Unicode normalization form (macOS
 * treats `é` and `e` + combining accent as one name) and in lower case (macOS and Windows).
 */
function pathIdentity(path: string): string {
  return path
    .split(/[/\\]+/)
    .filter((segment) => segment !== '' && segment !== '.')
    .join('/')
    .normalize('NFC')
    .toLowerCase();
}

function parseManifest(text: string): Record<string, unknown> {
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const firstLine = (error as Error).message.split('\n')[0];
    throw invalid('invalid-crate-file', `the crate's Cargo.toml is not valid TOML: ${firstLine}`);
  }
}

function checkManifest(manifest: Record<string, unknown>, expected: { name: string; version: string }): void {
  const pkg = manifest.package;
  if (typeof pkg !== 'object' || pkg === null) throw notValid("the crate's Cargo.toml has no [package] table");
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
}

/** Reads an entry's bytes, refusing more than `max`. */
async function readEntry(entry: AsyncIterable<Buffer>, max: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of entry) {
    length += chunk.length;
    if (length > max) throw tooLarge('crate-manifest-too-large', `the crate's ${what} is larger than ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export async function inspectCrateTarball(
  bytes: Uint8Array,
  expected: { name: string; version: string },
  limits: CrateTarballLimits,
): Promise<CrateTarballContents> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) {
    throw notValid('the crate file is not gzip-compressed (a .crate is a .tar.gz)');
  }
  const prefix = `${expected.name}-${expected.version}/`;
  const manifestPath = `${prefix}Cargo.toml`;
  const gunzip = createGunzip();
  const extractor = extract();
  // The first refusal wins: destroying one stream makes the others fail with less useful errors.
  let refusal: RegistryError | undefined;
  let unpacked = 0;
  gunzip.on('data', (chunk: Buffer) => {
    unpacked += chunk.length;
    if (unpacked > limits.maxUnpackedBytes && refusal === undefined) {
      refusal = tooLarge('crate-too-large', `the crate file unpacks to more than ${limits.maxUnpackedBytes} bytes`);
      gunzip.destroy(refusal);
    }
  });

  const seen = new Set<string>();
  let entries = 0;
  let fileCount = 0;
  let manifestText: string | undefined;
  const walk = async () => {
    try {
      await walkEntries();
    } catch (error) {
      if (error instanceof RegistryError) refusal ??= error;
      throw error;
    }
  };
  const walkEntries = async () => {
    for await (const entry of extractor) {
      const header = entry.header;
      if (++entries > limits.maxEntries) {
        throw tooLarge('crate-too-many-files', `the crate file has more than ${limits.maxEntries} entries (publish.max_files)`);
      }
      checkEntry(header, prefix);
      // tar-stream reads a size field it cannot decode (a base-256 marker other than 0x80/0xff) as
      // null and then waits for that entry's data forever: refuse it instead of hanging.
      if (!Number.isSafeInteger(header.size) || header.size! < 0) {
        throw notValid(`the crate file's entry \`${header.name}\` has an unreadable size field`);
      }
      const identity = pathIdentity(header.name);
      if (seen.has(identity)) throw notValid(`the crate file contains \`${header.name}\` more than once`);
      seen.add(identity);
      if (header.type === 'directory') {
        entry.resume();
        continue;
      }
      fileCount++;
      if (header.name === manifestPath) {
        manifestText = (await readEntry(entry as AsyncIterable<Buffer>, limits.maxManifestBytes, 'Cargo.toml')).toString('utf8');
      } else {
        entry.resume();
      }
    }
  };

  try {
    await Promise.all([pipeline(Readable.from([bytes]), gunzip, extractor), walk()]);
  } catch (error) {
    extractor.destroy();
    gunzip.destroy();
    if (refusal) throw refusal;
    if (error instanceof RegistryError) throw error;
    const message = (error as Error).message;
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_')) throw notValid(`the crate file is not valid gzip: ${message}`);
    throw notValid(`the crate file is not a valid tar archive: ${message}`);
  }
  if (entries === 0) throw notValid('the crate file is not a tar archive, or an empty one');
  if (manifestText === undefined) throw notValid(`the crate file has no \`${manifestPath}\``);
  const manifest = parseManifest(manifestText);
  checkManifest(manifest, expected);
  return { manifest, fileCount };
}
