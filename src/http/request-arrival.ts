// Every request must arrive whole within the server's limit (app.ts, `requestArrivalLimitMs`). node
// enforces it on the plain HTTP/1.1 server (`requestTimeout`), but neither on an HTTP/2 stream nor
// on HTTP/1.1 over the TLS server (an HTTP/2 server that also speaks HTTP/1.1). There, a client that
// keeps its connection busy (one moving stream, a PING, a byte now and then) could hold up to 100
// stalled requests per connection for good, each with what fastify has buffered of its body. Here
// the limit holds for those servers too: a request not whole in time is answered 408 in cargo's
// error shape, when nothing has been answered yet, and then its stream is reset (HTTP/2) or its
// connection closed (HTTP/1.1), as node does on the plain server.

import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants, Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { LATE_REQUEST_DETAIL } from './client-errors.js';
import { ERRORS_CONTENT_TYPE, errorsJson } from './error-mapper.js';

type Request = IncomingMessage | Http2ServerRequest;
type Response = ServerResponse | Http2ServerResponse;

/** Whether the whole request has been received: not whether the server has read it. */
function arrived(req: Request): boolean {
  if (req instanceof Http2ServerRequest) {
    const stream = req.stream;
    return stream.endAfterHeaders || stream.destroyed || stream.state.remoteClose === 1;
  }
  return req.complete;
}

/** Stops the request from arriving any further: its HTTP/2 stream reset, or its connection closed. */
function stopReceiving(req: Request, code: number): void {
  if (req instanceof Http2ServerRequest) req.stream.close(code);
  else req.socket.destroy();
}

function answerLate(req: Request, res: Response): void {
  if (res.headersSent) {
    stopReceiving(req, constants.NGHTTP2_CANCEL);
    return;
  }
  const body = errorsJson(LATE_REQUEST_DETAIL);
  const headers = { 'content-type': ERRORS_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(body)) };
  (res as ServerResponse).writeHead(408, req instanceof Http2ServerRequest ? headers : { ...headers, connection: 'close' });
  // RFC 9113 §8.1: after a complete answer, NO_ERROR tells the client to stop sending its request.
  (res as ServerResponse).end(body, () => stopReceiving(req, constants.NGHTTP2_NO_ERROR));
}

/** Holds every request that `server` emits to the arrival limit (a plain HTTP/1.1 server needs none). */
export function limitRequestArrival(server: EventEmitter, limitMs: number): void {
  server.on('request', (req: Request, res: Response) => {
    if (arrived(req)) return;
    const timer = setTimeout(() => {
      if (!arrived(req)) answerLate(req, res);
    }, limitMs);
    timer.unref();
    res.once('close', () => clearTimeout(timer));
  });
}
