// A cached upstream file (an index file or the upstream's config.json) and how it is kept in the
// blob store: one JSON line of metadata (upstream validators, when it was fetched, whether the
// upstream had it at all), then the upstream's bytes verbatim. One blob per file, so one put()
// replaces both at once, on disk or in S3.

import { createHash } from 'node:crypto';
import { ownBytes } from '../lib/own-bytes.js';

export interface CachedFile {
  /** False when the upstream answered that there is no such file (a cached 404). */
  present: boolean;
  /** The upstream's bytes, verbatim. */
  body: Buffer;
  /** Our ETag for clients: a hash of the body. */
  etag: string;
  /** The upstream's validators, for revalidation. */
  upstreamEtag: string | undefined;
  lastModified: string | undefined;
  /** When the upstream last confirmed this content (ms since the epoch). */
  fetchedAt: number;
  /** Gzip form, made on first request by a client that accepts it. */
  gzipped?: Buffer;
}

interface StoredMeta {
  v: 1;
  present: boolean;
  upstreamEtag?: string;
  lastModified?: string;
  fetchedAt: number;
}

export function makeCachedFile(fields: Omit<CachedFile, 'etag' | 'gzipped'>): CachedFile {
  const etag = `"${createHash('sha256').update(fields.body).digest('base64url').slice(0, 32)}"`;
  return { ...fields, body: ownBytes(fields.body), etag };
}

export function encodeCachedFile(file: CachedFile): Buffer {
  const meta: StoredMeta = {
    v: 1,
    present: file.present,
    upstreamEtag: file.upstreamEtag,
    lastModified: file.lastModified,
    fetchedAt: file.fetchedAt,
  };
  return Buffer.concat([Buffer.from(JSON.stringify(meta) + '\n'), file.body]);
}

/** Undefined when the blob is not one of ours (a partial write from an older version, say). */
export function decodeCachedFile(blob: Buffer): CachedFile | undefined {
  const newline = blob.indexOf(0x0a);
  if (newline === -1) return undefined;
  let meta: StoredMeta;
  try {
    meta = JSON.parse(blob.subarray(0, newline).toString('utf8')) as StoredMeta;
  } catch {
    return undefined;
  }
  if (meta.v !== 1 || typeof meta.fetchedAt !== 'number') return undefined;
  return makeCachedFile({
    present: meta.present,
    body: blob.subarray(newline + 1),
    upstreamEtag: meta.upstreamEtag,
    lastModified: meta.lastModified,
    fetchedAt: meta.fetchedAt,
  });
}
