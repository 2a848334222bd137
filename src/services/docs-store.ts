// Rustdoc output in the blob store, so every replica serves the same docs. A version's docs are
// kept twice under one prefix named by the archive's SHA-256 (`docs/<crate>/<version>/<sha>`):
// the checked archive itself (`<prefix>.tar.gz`, what export and import carry) and each file
// unpacked (`<prefix>/files/<path>`, what the doc routes stream). A new upload writes a new prefix
// and the row switches to it in one update, so a reader never sees half of two uploads; the old
// prefix is removed afterwards.

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { DocsArchiveLimits, DocsFile } from '../domain/docs-archive.js';
import { invalid } from '../domain/errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { CpuPool } from './cpu-pool.js';

const UNPACK_TIMEOUT_MS = 120_000;

export const docsArchiveKey = (docsKey: string) => `${docsKey}.tar.gz`;
export const docsFileKey = (docsKey: string, path: string) => `${docsKey}/files/${path}`;

/** The SHA-256 a docs key is named by (its last segment): export and import check archives against it. */
export const docsSha256Of = (docsKey: string) => docsKey.slice(docsKey.lastIndexOf('/') + 1);

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export class DocsStore {
  constructor(
    private readonly blobs: BlobStore,
    private readonly cpu: CpuPool,
    private readonly limits: DocsArchiveLimits,
  ) {}

  /** Checks the archive on the CPU pool; throws the refusal (nothing is stored then). */
  private unpack(archive: Uint8Array): Promise<DocsFile[]> {
    return this.cpu.run(
      'unpackDocs',
      { archive, limits: this.limits },
      {
        timeoutMs: UNPACK_TIMEOUT_MS,
        onTimeout: () => invalid('invalid-docs-archive', `unpacking the docs archive took longer than ${UNPACK_TIMEOUT_MS / 1000} s`),
      },
    );
  }

  /** Checks and stores a `.tar.gz` of `target/doc` for a version; returns its docs key. */
  async store(lowerName: string, version: string, archive: Buffer): Promise<string> {
    const files = await this.unpack(archive);
    const sha = createHash('sha256').update(archive).digest('hex');
    const docsKey = `docs/${lowerName}/${version}/${sha}`;
    for (const file of files) await this.blobs.put(docsFileKey(docsKey, file.path), Buffer.from(file.bytes));
    // The archive last: its presence says the files are all there (import relies on it).
    await this.blobs.put(docsArchiveKey(docsKey), archive);
    return docsKey;
  }

  /** The archive's bytes, for export; undefined when missing. */
  async archive(docsKey: string): Promise<Buffer | undefined> {
    const blob = await this.blobs.open(docsArchiveKey(docsKey));
    return blob ? readAll(blob.stream) : undefined;
  }

  /** One file of the docs, or undefined. */
  open(docsKey: string, path: string): Promise<{ stream: Readable; size: number } | undefined> {
    return this.blobs.open(docsFileKey(docsKey, path));
  }

  /** Removes the docs under a key: every file the archive lists, then the archive. */
  async remove(docsKey: string): Promise<void> {
    const archive = await this.archive(docsKey);
    if (!archive) return;
    const files = await this.unpack(archive).catch(() => []);
    for (const file of files) await this.blobs.delete(docsFileKey(docsKey, file.path));
    await this.blobs.delete(docsArchiveKey(docsKey));
  }
}
