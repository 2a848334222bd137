// Index files for the CPU pool's worker threads (listed in cpu-tasks.ts). A crate with a thousand
// versions has a ~2 MB file; parsing its stored rows, rendering, hashing and compressing it would hold
// the event loop for tens of milliseconds, and an invalidation (any publish or yank) makes the next
// request do it again. services/index-files.ts sends large files here and renders small ones itself
// with the same function, where the thread hop would cost more than the work.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { renderIndexFileFromJson } from '../domain/index-line.js';
import type { StoredVersionJson } from '../ports/crates.js';

export interface RenderedIndexFile {
  body: Uint8Array;
  /** A hash of the body, so it changes exactly when the bytes do. */
  etag: string;
  /** The gzip form, when asked for. */
  gzipped: Uint8Array | undefined;
}

export interface IndexFileInput {
  rows: StoredVersionJson[];
  gzip: boolean;
}

export function indexFileEtag(body: Uint8Array): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
}

/**
 * The text in a buffer of its own. `Buffer.from(text)` takes a small one from Node's shared 8 KiB
 * pool, and a cached body would keep that whole slab alive: up to 20 times what the cache counts
 * (found by the long fuzz run's memory watch, fuzz/README.md).
 */
function ownBuffer(text: string): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Buffer.byteLength(text, 'utf8'));
  buffer.write(text, 'utf8');
  return buffer;
}

export function renderIndexFileBytes(input: IndexFileInput): RenderedIndexFile {
  const body = ownBuffer(renderIndexFileFromJson(input.rows));
  return { body, etag: indexFileEtag(body), gzipped: input.gzip ? gzipSync(body) : undefined };
}
