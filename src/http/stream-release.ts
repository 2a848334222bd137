// A file streamed to a client must be closed when the client leaves. node's `pipeline` and fastify's
// stream reply watch the response for that, but miss an HTTP/2 response that closed before they were
// attached (a download cancelled while its file opened): the file then stayed open for good, and
// enough of them would exhaust the process's file descriptors. These close it themselves.

import type { ServerResponse } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

/** Whether the response can no longer be sent: its connection, or its HTTP/2 stream, closed. */
function responseClosed(res: ServerResponse | Http2ServerResponse): boolean {
  return res instanceof Http2ServerResponse ? res.stream.closed || res.stream.destroyed : res.destroyed;
}

/** Destroys `stream` when `res` closes, or now, returning false, when it has closed already. */
export function releaseWithResponse(res: ServerResponse | Http2ServerResponse, stream: Readable): boolean {
  if (responseClosed(res)) {
    stream.destroy();
    return false;
  }
  res.once('close', () => stream.destroy());
  return true;
}

/** fastify's `reply.send(stream)`, with the stream released as above. */
export function sendStream(reply: FastifyReply, stream: Readable): FastifyReply {
  if (!releaseWithResponse(reply.raw, stream)) return reply.hijack();
  return reply.send(stream);
}
