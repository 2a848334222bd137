// Index files for the CPU pool's worker threads (listed in cpu-tasks.ts). A crate with a thousand
// versions has a ~2 MB file; parsing its stored rows, rendering, hashing and compressing it would hold
// the event loop for tens of milliseconds, and an invalidation (any publish or yank) makes the next
// request do it again. services/index-files.ts sends large files here and renders small ones itself
// with the same function, where the thread hop would cost more than the work.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { renderIndexFileFromJson } from '../domain/index-line.js';
import type { StoredVersionJson } from '../ports/metadata-store.js';

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

export function renderIndexFileBytes(input: IndexFileInput): RenderedIndexFile {
  const body = Buffer.from(renderIndexFileFromJson(input.rows), 'utf8');
  return { body, etag: indexFileEtag(body), gzipped: input.gzip ? gzipSync(body) : undefined };
}
