// What a client gets when node could not read its request, before any route runs (fastify's
// `clientErrorHandler`): cargo's error shape, as in every other answer, and then the connection
// closes. node reports a request that did not arrive in time (app.ts, `requestArrivalLimitMs`),
// headers over its size limit, and bytes that are not HTTP/1.1.

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERRORS_CONTENT_TYPE, errorsJson } from './error-mapper.js';

/** The 408's detail, here and for HTTP/2 streams and TLS (request-arrival.ts). */
export const LATE_REQUEST_DETAIL = 'the request did not arrive within the time this server allows';

const ANSWERS: Readonly<Record<string, readonly [status: number, detail: string]>> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, LATE_REQUEST_DETAIL],
  HPE_HEADER_OVERFLOW: [431, 'the request headers are larger than this server accepts'],
};
const MALFORMED = [400, 'the request is not valid HTTP/1.1'] as const;

export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] = ANSWERS[error.code ?? ''] ?? MALFORMED;
  const body = errorsJson(detail);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${ERRORS_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
