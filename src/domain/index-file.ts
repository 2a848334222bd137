// A crate's sparse-index file as it is served: its bytes, or their gzip form, or both. The store
// keeps the gzip form beside the bytes, made when the file changes (migration 18), so a read by
// cargo (which always accepts gzip) sends stored bytes without compressing anything, and a cache
// of gzip forms holds several times as many files in the same memory (bench/README.md).

import { gunzipSync, gzip } from 'node:zlib';
import { promisify } from 'node:util';

export interface IndexFile {
  /** A hash of the bytes (not of their gzip form), so it changes exactly when they do. */
  etag: string;
  /** The bytes as served; absent when only the gzip form was read. */
  body?: Buffer;
  /** The gzip form; absent when not read or not made (a small file). At least one of the two is set. */
  gzipped?: Buffer;
}

/** Which form of a stored file to read: what the client accepts. */
export type IndexFileForm = 'identity' | 'gzip';

/** Below this many bytes a file has no gzip form: gzip saves less than it costs in headers and CPU. */
export const MIN_GZIP_BYTES = 1024;

const gzipAsync = promisify(gzip);

/** The gzip form stored beside a file's bytes, or null for a file too small to be worth it. Compressed on libuv's threads. */
export async function gzipFormOf(body: Uint8Array): Promise<Buffer | null> {
  return body.length < MIN_GZIP_BYTES ? null : gzipAsync(body);
}

/**
 * The bytes of a file, inflated when only its gzip form was read. Done on the caller's thread: the
 * caller (the supply-chain policy, reviewing a file that cargo's read brought into memory) goes on
 * to parse the whole file, which costs more than inflating it.
 */
export function indexFileBody(file: IndexFile): Buffer {
  if (file.body !== undefined) return file.body;
  if (file.gzipped === undefined) throw new Error('an index file with neither its bytes nor their gzip form');
  return gunzipSync(file.gzipped);
}
