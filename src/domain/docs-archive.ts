// Checks and unpacks a `.tar.gz` of rustdoc's output (`target/doc`), uploaded from CI or made by
// the builder, before any of it is stored: gzip, then tar; every entry a plain file or a folder, at a
// relative path without `..`, absolute parts, backslashes or control characters; no path twice;
// bounded entries and unpacked bytes, counted as the stream is read (a compression bomb is refused
// at the limit, never unpacked whole). Knows nothing of HTTP or storage; runs on a worker thread.

import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { extract, type Header } from 'tar-stream';
import { invalid, RegistryError, tooLarge } from './errors.js';

export interface DocsArchiveLimits {
  maxUnpackedBytes: number;
  maxEntries: number;
}

export interface DocsFile {
  /** Relative path inside the docs, `/`-separated, e.g. `mycrate/index.html`. */
  path: string;
  bytes: Uint8Array;
}

const notValid = (message: string) => invalid('invalid-docs-archive', message);

/** The entry's path, normalized (no leading `./`, no trailing `/`); throws on a path that could escape. */
export function docsEntryPath(name: string): string {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw notValid(`the docs archive contains an absolute path: \`${name}\``);
  if (name.includes('\\')) throw notValid(`the docs archive contains a path with a backslash: \`${name}\``);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw notValid('the docs archive contains a path with control characters');
  const segments = name.split('/').filter((s, i, all) => !(s === '.' && i === 0) && !(s === '' && i === all.length - 1));
  if (segments.includes('..')) throw notValid(`the docs archive contains a path with \`..\`: \`${name}\``);
  if (segments.some((s) => s === '' || s === '.')) throw notValid(`the docs archive contains a malformed path: \`${name}\``);
  return segments.join('/');
}

function checkType(header: Header, path: string): void {
  const type = header.type ?? 'file';
  if (type === 'symlink' || type === 'link')
    throw notValid(`the docs archive contains a link: \`${path}\` (only files and folders are allowed)`);
  if (type !== 'file' && type !== 'contiguous-file' && type !== 'directory') {
    throw notValid(`the docs archive contains \`${path}\` of type ${type} (only files and folders are allowed)`);
  }
}

export async function unpackDocsArchive(bytes: Uint8Array, limits: DocsArchiveLimits): Promise<DocsFile[]> {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b)
    throw notValid('the docs archive is not gzip-compressed (send a .tar.gz)');
  const gunzip = createGunzip();
  const extractor = extract();
  let refusal: RegistryError | undefined;
  let unpacked = 0;
  gunzip.on('data', (chunk: Buffer) => {
    unpacked += chunk.length;
    if (unpacked > limits.maxUnpackedBytes && refusal === undefined) {
      refusal = tooLarge(
        'docs-archive-too-large',
        `the docs archive unpacks to more than ${limits.maxUnpackedBytes} bytes (docs.max_unpacked_size)`,
      );
      gunzip.destroy(refusal);
    }
  });
  const files: DocsFile[] = [];
  const seen = new Set<string>();
  let entries = 0;
  const walk = async () => {
    for await (const entry of extractor) {
      const header = entry.header;
      if (++entries > limits.maxEntries) {
        throw tooLarge('docs-archive-too-large', `the docs archive has more than ${limits.maxEntries} entries (docs.max_files)`);
      }
      const path = docsEntryPath(header.name);
      checkType(header, header.name);
      if (!Number.isSafeInteger(header.size) || header.size! < 0)
        throw notValid(`the docs archive's entry \`${header.name}\` has an unreadable size`);
      if (header.type === 'directory' || path === '') {
        entry.resume();
        continue;
      }
      if (seen.has(path)) throw notValid(`the docs archive contains \`${path}\` more than once`);
      seen.add(path);
      const chunks: Buffer[] = [];
      for await (const chunk of entry as AsyncIterable<Buffer>) chunks.push(chunk);
      files.push({ path, bytes: Buffer.concat(chunks) });
    }
  };
  try {
    await Promise.all([
      pipeline(Readable.from([bytes]), gunzip, extractor),
      walk().catch((error: unknown) => {
        if (error instanceof RegistryError) refusal ??= error;
        throw error;
      }),
    ]);
  } catch (error) {
    extractor.destroy();
    gunzip.destroy();
    if (refusal) throw refusal;
    if (error instanceof RegistryError) throw error;
    const message = (error as Error).message;
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_')) throw notValid(`the docs archive is not valid gzip: ${message}`);
    throw notValid(`the docs archive is not a valid tar archive: ${message}`);
  }
  // Directory paths and file paths must not collide (`a` a file and `a/b` another).
  for (const { path } of files) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (seen.has(parts.slice(0, i).join('/')))
        throw notValid(`the docs archive has \`${parts.slice(0, i).join('/')}\` as a file and a folder`);
    }
  }
  if (files.length === 0) throw notValid('the docs archive holds no files');
  return files;
}
