// The auth-injecting forward proxy. For configured hosts it terminates the client's CONNECT tunnel
// with a certificate for that host (issued by the proxy CA, cached), speaks HTTP/2 or HTTP/1.1 to the
// client as ALPN decides, and relays each request with the host's headers over verified TLS (see
// proxy-forward.ts). Every other CONNECT is a byte tunnel the proxy never looks into. Plain-http
// proxy requests are relayed too, with headers only for configured hosts.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { CredentialResolver } from './credential-resolver.js';
import { formatHostPort, urlHostPort } from './host-key.js';
import { forwardRequest, type ForwardContext, type OriginTarget } from './proxy-forward.js';
import type { LoadedCa } from './proxy-ca-store.js';
import type { Connector } from './upstream-connector.js';
import { generateKey, issueLeafCertificate } from './x509-builder.js';

export interface AuthProxyOptions {
  resolver: CredentialResolver;
  ca: LoadedCa;
  connector: Connector;
  trust: string[] | undefined;
  log: (line: string) => void;
}

export interface RunningProxy {
  host: string;
  port: number;
  close(): Promise<void>;
}

interface Interceptor {
  server: Http2SecureServer;
  notAfter: number;
}

/** A leaf is replaced this long before it expires. */
const LEAF_RENEW_MS = 24 * 3600_000;

/** Parses a CONNECT target (`host:port`, `[v6]:port`); undefined when malformed. */
export function parseConnectTarget(authority: string | undefined): { host: string; port: number } | undefined {
  if (!authority) return undefined;
  try {
    const url = new URL(`https://${authority}`);
    if (url.port === '' && !/:443$/.test(authority)) return undefined;
    return urlHostPort(url);
  } catch {
    return undefined;
  }
}

export async function startAuthProxy(options: AuthProxyOptions, listenHost: string, listenPort: number): Promise<RunningProxy> {
  const { resolver, ca, log } = options;
  const leafKey = generateKey();
  const leafKeyPem = leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const sockets = new Set<Duplex>();
  /** Per `host:port`, its interception server, or the promise of one while its leaf is being issued. */
  const interceptors = new Map<string, Promise<Interceptor>>();
  const ctx: ForwardContext = { resolver, connector: options.connector, trust: options.trust, log, agents: new Map() };

  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const createInterceptor = async (host: string, port: number, key: string): Promise<Interceptor> => {
    const leaf = await issueLeafCertificate(ca, host, leafKey.publicKey);
    const target: OriginTarget = { protocol: 'https:', host, port };
    const server = createSecureServer(
      { cert: leaf.certPem, key: leafKeyPem, allowHTTP1: true, ALPNProtocols: ['h2', 'http/1.1'] },
      (req, res) => {
        // The request goes to the CONNECT target, whatever Host or :authority the client wrote.
        forwardRequest(ctx, target, req.url, req as Http2ServerRequest, res as Http2ServerResponse, true).catch((error: unknown) => {
          log(`${key}: ${(error as Error).message}`);
          res.destroy();
        });
      },
    );
    server.on('tlsClientError', (error) => log(`TLS with the client for ${key} failed (does it trust the proxy CA?): ${error.message}`));
    return { server, notAfter: leaf.notAfter };
  };

  /** The cached interceptor while its leaf is valid for another day; concurrent callers share one issuance. */
  const interceptorFor = async (host: string, port: number): Promise<Http2SecureServer> => {
    const key = formatHostPort(host, port);
    const entry = interceptors.get(key);
    if (entry !== undefined) {
      const cached = await entry.catch(() => undefined);
      if (cached && cached.notAfter - LEAF_RENEW_MS > Date.now()) return cached.server;
      if (interceptors.get(key) !== entry) return interceptorFor(host, port);
    }
    const created = createInterceptor(host, port, key);
    interceptors.set(key, created);
    return (await created).server;
  };

  const tunnel = (client: Socket, head: Buffer, host: string, port: number) => {
    options.connector(host, port).then(
      (origin) => {
        track(origin);
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) origin.write(head);
        origin.pipe(client);
        client.pipe(origin);
        origin.on('error', () => client.destroy());
        client.on('error', () => origin.destroy());
        client.on('close', () => origin.destroy());
        origin.on('close', () => client.destroy());
      },
      (error: Error) => {
        log(`tunnel to ${formatHostPort(host, port)} failed: ${error.message}`);
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      },
    );
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end('cratekeeper proxy: this is a forward proxy; send absolute URLs or CONNECT\n');
      return;
    }
    if (url.protocol !== 'http:') {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`cratekeeper proxy: cannot relay ${url.protocol} URLs; use CONNECT\n`);
      return;
    }
    const { host, port } = urlHostPort(url);
    const inject = resolver.hostConfig(host, port) !== undefined;
    forwardRequest(ctx, { protocol: 'http:', host, port }, url.pathname + url.search, req, res, inject).catch((error: unknown) => {
      log(`${url.host}: ${(error as Error).message}`);
      res.destroy();
    });
  });
  server.on('connection', track);
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = parseConnectTarget(req.url);
    if (target === undefined) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    client.on('error', () => client.destroy());
    if (resolver.hostConfig(target.host, target.port) === undefined) {
      tunnel(client, head, target.host, target.port);
      return;
    }
    // The client sends nothing more before it reads the 200, so no bytes wait while the leaf is issued.
    interceptorFor(target.host, target.port).then(
      (interceptor) => {
        if (client.destroyed) return;
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) client.unshift(head);
        interceptor.emit('connection', client);
      },
      (error: Error) => {
        log(`cannot issue a certificate for ${target.host}: ${error.message}`);
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, listenHost, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy is not listening on TCP');
  return {
    host: address.address,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        for (const agent of ctx.agents.values()) agent.destroy();
      }),
  };
}
