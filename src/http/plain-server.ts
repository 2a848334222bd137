// fastify's plain HTTP server, with a lean path in front of its handler (fast-lane.ts), and HTTP/2
// for clients that ask to switch (h2c-upgrade.ts; cargo does). Given as `serverFactory`, it must set
// up the server as fastify does without one (fastify/lib/server.js), so that timeouts and keep-alive
// stay what they were.

import { METHODS, Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { acceptH2cUpgrades, type UpgradedConnections } from './h2c-upgrade.js';
import { ERRORS_CONTENT_TYPE, errorsJson } from './error-mapper.js';

interface FastifyServerOptions {
  http?: object;
  keepAliveTimeout?: number;
  requestTimeout?: number;
  connectionTimeout?: number;
  maxRequestsPerSocket?: number;
  http2SessionTimeout?: number;
}

/**
 * Streams one HTTP/2 connection may have open at once: RFC 7540 §6.5.2 recommends no fewer than
 * 100; node's default is unbounded. Shared with the TLS server (app.ts).
 */
export const HTTP2_SETTINGS = { maxConcurrentStreams: 100 };
/** fastify's default for `http2SessionTimeout`: an idle HTTP/2 connection is closed after it. */
const HTTP2_SESSION_TIMEOUT_MS = 72_000;
/** node's defaults for the time to receive a request's headers, and for how often it checks. */
const HEADERS_TIMEOUT_MS = 60_000;
const CONNECTIONS_CHECK_MS = 30_000;
/** The methods HTTP/1.1 answers (its parser refuses others; CONNECT has no handler); HTTP/2 carries any token. */
const HTTP_METHODS = new Set(METHODS.filter((method) => method !== 'CONNECT'));

/** An HTTP/1.1 server whose upgraded HTTP/2 connections close with it. */
class PlainServer extends Server {
  upgraded: UpgradedConnections | undefined;

  override close(callback?: (error?: Error) => void): this {
    this.upgraded?.close();
    return super.close(callback);
  }

  override closeAllConnections(): void {
    this.upgraded?.destroy();
    super.closeAllConnections();
  }
}

export interface PlainServerOptions {
  /** Answers a request and returns true, or returns false to let fastify answer it. */
  answered: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Called for each connection switched to HTTP/2. */
  onHttp2Upgrade?: () => void;
}

export function plainServerFactory({ answered, onHttp2Upgrade }: PlainServerOptions) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void, options: FastifyServerOptions): Server => {
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      if (!answered(req, res)) handler(req, res);
    };
    const requestTimeout = options.requestTimeout ?? 0;
    const server = new PlainServer(
      {
        ...options.http,
        requestTimeout,
        // node's default (60 s) unless the request's own timeout is shorter: it must not be longer.
        headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout || HEADERS_TIMEOUT_MS),
        // node checks both this often; its default (30 s) would let a short timeout run 30 s over.
        connectionsCheckingInterval: Math.min(CONNECTIONS_CHECK_MS, requestTimeout || CONNECTIONS_CHECK_MS),
      },
      serve,
    );
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.connectionTimeout !== undefined) server.setTimeout(options.connectionTimeout);
    // fastify treats zero as node's default.
    if (options.maxRequestsPerSocket !== undefined && options.maxRequestsPerSocket > 0) {
      server.maxRequestsPerSocket = options.maxRequestsPerSocket;
    }

    // The HTTP/2 side answers through the same handler: fastify and the lean path read node's
    // compatibility request and response as they read HTTP/1.1's. A method HTTP/1.1 would have
    // refused (`get`, `FOO`) is refused as it is there, before fastify, which has no route for it.
    server.upgraded = acceptH2cUpgrades(
      server,
      (req, res) => {
        if (HTTP_METHODS.has(req.method!)) return serve(req, res);
        res.writeHead(400, { 'content-type': ERRORS_CONTENT_TYPE });
        res.end(errorsJson(`\`${req.method}\` is not an HTTP method`));
      },
      {
        onUpgrade: onHttp2Upgrade,
        idleTimeoutMs: options.http2SessionTimeout ?? HTTP2_SESSION_TIMEOUT_MS,
        arrivalLimitMs: requestTimeout,
        settings: HTTP2_SETTINGS,
      },
    );
    return server;
  };
}
