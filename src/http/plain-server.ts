// fastify's plain HTTP/1 server, with a lean path in front of its handler (fast-lane.ts). Given as
// `serverFactory`, it must set up the server as fastify does without one (fastify/lib/server.js),
// so that timeouts and keep-alive stay what they were.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

interface FastifyServerOptions {
  http?: object;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
}

/** `answered(req, res)` answers a request and returns true, or returns false to let fastify answer it. */
export function plainServerFactory(answered: (req: IncomingMessage, res: ServerResponse) => boolean) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void, options: FastifyServerOptions): Server => {
    const server = createServer(options.http ?? {}, (req, res) => {
      if (!answered(req, res)) handler(req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    // fastify treats zero as node's default.
    if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0) {
      server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    }
    return server;
  };
}
