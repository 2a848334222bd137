// How an index file goes out, the same for the local index and for every mirror: a content-hash
// ETag, `304` when the client already has it, no caching without revalidation, and the gzip form
// when the client accepts it and the file is large enough to be worth it. One place, so a fix to
// the validator matching or the headers reaches both routes.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { indexFileBody, type IndexFile } from '../domain/index-file.js';
import { indexFileFormFor, type IndexFiles } from '../services/index-files.js';

/**
 * If-None-Match uses the weak comparison (RFC 9110 13.1.2): `W/` is ignored, any entry of a list
 * may match, and `*` matches any file that exists.
 */
export function etagMatches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}

/** What goes out for an index file: status, headers and body (none for `304`). */
export interface IndexFileAnswer {
  status: 200 | 304;
  headers: Record<string, string>;
  body?: Buffer;
}

/**
 * The answer for an index file (a local one or a mirrored one), from the request's headers, for
 * fastify's reply (`sendIndexFile`) and for the lean path (fast-lane.ts) alike. `compressor` makes
 * or remembers the gzip form; it answers undefined for a file too small to be worth compressing.
 */
export function indexFileAnswer(
  requestHeaders: { 'if-none-match'?: string | undefined; 'accept-encoding'?: string | undefined },
  file: IndexFile,
  compressor: Pick<IndexFiles, 'gzipped'>,
): IndexFileAnswer {
  const headers: Record<string, string> = { etag: file.etag, 'cache-control': 'private, no-cache', vary: 'accept-encoding' };
  const ifNoneMatch = requestHeaders['if-none-match'];
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, file.etag)) return { status: 304, headers };
  headers['content-type'] = 'text/plain; charset=utf-8';
  const gzipped = indexFileFormFor(requestHeaders['accept-encoding']) === 'gzip' ? compressor.gzipped(file) : undefined;
  if (gzipped) {
    headers['content-encoding'] = 'gzip';
    return { status: 200, headers, body: gzipped };
  }
  return { status: 200, headers, body: indexFileBody(file) };
}

/** Sends an index file with fastify (see `indexFileAnswer`). */
export function sendIndexFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: IndexFile,
  compressor: Pick<IndexFiles, 'gzipped'>,
): FastifyReply {
  const answer = indexFileAnswer(request.headers, file, compressor);
  reply.code(answer.status).headers(answer.headers);
  return answer.body === undefined ? reply.send() : reply.send(answer.body);
}
