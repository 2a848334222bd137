// An HTTP/1.1 request written as the HTTP/2 frames a client would have sent for it on stream 1,
// for the h2c upgrade (h2c-upgrade.ts): RFC 7540 §3.2 makes the upgraded request stream 1, and
// node's HTTP/2 session can only learn of a stream from the bytes it reads.
//
// The header block uses HPACK's "literal without indexing, new name" form only (RFC 7541 §6.2.2):
// it leaves the session's decoding table untouched, so the client's own later header blocks, encoded
// against an empty table, decode as the client meant them.

import type { IncomingMessage } from 'node:http';

/** RFC 7540 §4.2: the largest frame payload a peer must accept before its SETTINGS say more. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const FRAME_HEADER_LENGTH = 9;
const HEADERS = 0x1;
const CONTINUATION = 0x9;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const UPGRADED_STREAM = 1;

// Connection-specific fields, which HTTP/2 forbids (RFC 7540 §8.1.2.2), and `host`, which becomes
// `:authority`. `te` could stay as `trailers`; nothing here reads it.
const NOT_FORWARDED = new Set([
  'connection',
  'upgrade',
  'http2-settings',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'host',
  'te',
]);

/** RFC 7541 §5.1: `value` in an integer with a prefix of `prefixBits` bits, after `flags`. */
function hpackInteger(value: number, prefixBits: number, flags: number): number[] {
  const limit = (1 << prefixBits) - 1;
  if (value < limit) return [flags | value];
  const bytes = [flags | limit];
  let rest = value - limit;
  while (rest >= 128) {
    bytes.push((rest % 128) | 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** RFC 7541 §5.2, without Huffman coding. Header text from node's parser is latin1. */
function hpackString(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'latin1');
  return [Buffer.from(hpackInteger(bytes.length, 7, 0)), bytes];
}

function headerBlock(fields: [string, string][]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0]), ...hpackString(name), ...hpackString(value)]));
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(FRAME_HEADER_LENGTH);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, payload]);
}

/**
 * The request's fields as HTTP/2 sends them over plain http: pseudo-fields first, then its headers
 * as node's HTTP/1.1 parser joined them (`req.headers`), so that the handlers read the same values
 * over both protocols (HTTP/2 would otherwise keep the first of two `If-None-Match`).
 */
export function http2Fields(req: IncomingMessage): [string, string][] {
  const fields: [string, string][] = [
    [':method', req.method!],
    [':scheme', 'http'],
    [':path', req.url!],
  ];
  if (req.headers.host !== undefined) fields.push([':authority', req.headers.host]);
  for (const [name, value] of Object.entries(req.headers)) {
    if (NOT_FORWARDED.has(name) || value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) fields.push([name, one]);
  }
  return fields;
}

/**
 * A request without body as a HEADERS frame that ends its stream, followed by CONTINUATION frames
 * when its header block is larger than one frame may be.
 */
export function requestFrames(stream: number, fields: [string, string][]): Buffer {
  const block = headerBlock(fields);
  const frames: Buffer[] = [];
  for (let offset = 0; offset === 0 || offset < block.length; offset += DEFAULT_MAX_FRAME_SIZE) {
    const last = offset + DEFAULT_MAX_FRAME_SIZE >= block.length;
    const payload = block.subarray(offset, offset + DEFAULT_MAX_FRAME_SIZE);
    const flags = last ? END_HEADERS : 0;
    frames.push(offset === 0 ? frame(HEADERS, END_STREAM | flags, stream, payload) : frame(CONTINUATION, flags, stream, payload));
  }
  return Buffer.concat(frames);
}

/** The upgraded request, as stream 1's frames. */
export function upgradedRequestFrames(req: IncomingMessage): Buffer {
  return requestFrames(UPGRADED_STREAM, http2Fields(req));
}
