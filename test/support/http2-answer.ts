// What an HTTP/2 client stream received. A server that answers before the request has arrived
// whole resets the stream after its answer (RFC 9113 §8.1), which can end an `'end'`-based reader
// early; so the answer is read until the stream closes, or until its readable side has ended after
// a reset. The second case is needed: node's client never emits `'close'` for a stream reset while
// one of its own writes is in flight (that write's callback never comes, so neither does
// `'finish'`), and a test that keeps writing until the answer would wait for the session's end.

import type { ClientHttp2Stream } from 'node:http2';

export function http2Answer(stream: ClientHttp2Stream): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    let status = 0;
    let body = '';
    const settle = () => resolve({ status, body });
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => (body += chunk.toString()));
    stream.on('error', () => {});
    stream.on('end', () => stream.rstCode !== undefined && settle());
    stream.on('close', settle);
  });
}
