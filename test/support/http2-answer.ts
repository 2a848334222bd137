// What an HTTP/2 client stream received, read until the stream closes: a server that answers before
// the request has arrived whole resets the stream after its answer (RFC 9113 §8.1), which ends an
// `'end'`-based reader early.

import type { ClientHttp2Stream } from 'node:http2';

export function http2Answer(stream: ClientHttp2Stream): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
    stream.on('error', () => {});
    stream.on('close', () => resolve({ status, body }));
  });
}
