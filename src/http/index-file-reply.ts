// How an index file goes out, the same for the local index and for every mirror: a content-hash
// ETag, `304` when the client already has it, no caching without revalidation, and the gzip form
// when the client accepts it and the file is large enough to be worth it. One place, so a fix to
// the validator matching or the headers reaches both routes.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IndexFile, IndexFiles } from '../services/index-files.js';

/**
 * If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/` is ignored, any entry of a list
 * may match, and `*` matches any file that exists.
 */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}

/**
 * Sends an index file (a local one or a mirrored one). `compressor` makes or remembers the gzip
 * form; it answers undefined for a file too small to be worth compressing.
 */
export function sendIndexFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: IndexFile,
  compressor: Pick<IndexFiles, 'gzipped'>,
): FastifyReply {
  reply.header('etag', file.etag).header('cache-control', 'private, no-cache').header('vary', 'accept-encoding');
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, file.etag)) return reply.code(304).send();
  reply.type('text/plain; charset=utf-8');
  const gzipped = request.headers['accept-encoding']?.includes('gzip') ? compressor.gzipped(file) : undefined;
  if (gzipped) return reply.header('content-encoding', 'gzip').send(gzipped);
  return reply.send(file.body);
}
