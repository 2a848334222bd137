// Relays one HTTP request that the proxy terminated (an intercepted HTTPS request, HTTP/1.1 or
// HTTP/2 from the client, or a plain-http proxy request) to its origin over HTTP/1.1 with keep-alive,
// verifying the origin's certificate. For configured hosts it sets the host's headers, relays
// `auth-required: false` in config.json (the proxy owns authentication, so a client with no
// credentials of its own can use the registry) and logs requests whose credentials are rejected.

import {
  Agent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { CredentialResolver } from './credential-resolver.js';
import { formatHostPort } from './host-key.js';
import type { Connector } from './upstream-connector.js';

export interface OriginTarget {
  protocol: 'https:' | 'http:';
  host: string;
  port: number;
}

export interface ForwardContext {
  resolver: CredentialResolver;
  connector: Connector;
  /** Trusted CAs for origins (undefined: Node's default list, plus NODE_EXTRA_CA_CERTS). */
  trust: string[] | undefined;
  log: (line: string) => void;
  agents: Map<string, Agent>;
}

type ClientRequest = IncomingMessage | Http2ServerRequest;
type ClientResponse = ServerResponse | Http2ServerResponse;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
]);

function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.startsWith(':') || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}

function agentFor(ctx: ForwardContext, target: OriginTarget): Agent {
  const key = `${target.protocol}//${formatHostPort(target.host, target.port)}`;
  let agent = ctx.agents.get(key);
  if (agent === undefined) {
    agent = new Agent({ keepAlive: true, maxSockets: 32 });
    agent.createConnection = (_options, callback) => {
      ctx.connector(target.host, target.port).then(
        (socket) => {
          if (target.protocol === 'http:') return callback!(null, socket);
          const tls = tlsConnect({
            socket,
            host: target.host,
            ...(isIP(target.host) === 0 ? { servername: target.host } : {}),
            ...(ctx.trust ? { ca: ctx.trust } : {}),
            ALPNProtocols: ['http/1.1'],
          });
          callback!(null, tls as Duplex);
        },
        (error: Error) => callback!(error, undefined as unknown as Duplex),
      );
      return undefined;
    };
    ctx.agents.set(key, agent);
  }
  return agent;
}

function isConfigJson(method: string, path: string): boolean {
  return method === 'GET' && path.split('?')[0]!.endsWith('/config.json');
}

/** Sets auth-required to false in a registry config.json; undefined when the body is not one. */
export function relaxConfigJson(body: Buffer): Buffer | undefined {
  try {
    const config = JSON.parse(body.toString('utf8')) as unknown;
    if (typeof config !== 'object' || config === null || Array.isArray(config) || !('auth-required' in config)) return undefined;
    return Buffer.from(JSON.stringify({ ...config, 'auth-required': false }));
  } catch {
    return undefined;
  }
}

function fail(res: ClientResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  (res as ServerResponse).writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`cratekeeper proxy: ${message}\n`);
}

/**
 * Relays `req` (for `path`, in origin form) to the origin. `inject` is true for configured hosts: their headers are set (replacing
 * any the client sent under the same names).
 */
export async function forwardRequest(
  ctx: ForwardContext,
  target: OriginTarget,
  path: string,
  req: ClientRequest,
  res: ClientResponse,
  inject: boolean,
): Promise<void> {
  const method = req.method ?? 'GET';
  const authority = formatHostPort(target.host, target.port === (target.protocol === 'https:' ? 443 : 80) ? undefined : target.port);
  const headers = endToEnd(req.headers);
  headers.host = authority;
  const url = new URL(`${target.protocol}//${authority}${path.startsWith('/') ? path : `/${path}`}`);
  let injected = false;
  let rewrite = false;
  if (inject) {
    let auth;
    try {
      auth = await ctx.resolver.resolve(url);
    } catch (error) {
      ctx.log(`${authority}: no credentials (${(error as Error).message})`);
      fail(res, 502, `could not get credentials for ${authority}; see the proxy's log`);
      return;
    }
    if (auth === undefined)
      ctx.log(`${authority}: no credentials configured (no .netrc entry or token command); ${method} ${url.pathname} sent without`);
    for (const [name, value] of auth?.headers ?? []) {
      headers[name.toLowerCase()] = value;
      injected = true;
    }
    rewrite = (auth?.host?.rewriteAuthRequired ?? false) && isConfigJson(method, path);
    if (rewrite) headers['accept-encoding'] = 'identity';
  }

  const upstream = httpRequest({ method, path: url.pathname + url.search, headers, agent: agentFor(ctx, target) });
  upstream.on('response', (origin) => {
    const status = origin.statusCode ?? 502;
    if (injected && (status === 401 || status === 403)) {
      ctx.log(`${authority} rejected the credentials: ${method} ${url.pathname} -> ${status}`);
    }
    const out = endToEnd(origin.headers);
    if (rewrite && status === 200) {
      const chunks: Buffer[] = [];
      origin.on('data', (c: Buffer) => chunks.push(c));
      origin.on('end', () => {
        const body = Buffer.concat(chunks);
        const relaxed = relaxConfigJson(body);
        if (relaxed !== undefined) {
          delete out.etag;
          delete out['last-modified'];
          out['content-length'] = relaxed.length;
        }
        (res as ServerResponse).writeHead(status, out);
        res.end(relaxed ?? body);
      });
      origin.on('error', () => res.destroy());
      return;
    }
    (res as ServerResponse).writeHead(status, out);
    origin.pipe(res as ServerResponse);
    origin.on('error', () => res.destroy());
  });
  upstream.on('error', (error) => fail(res, 502, `${authority}: ${error.message}`));
  req.on('aborted', () => upstream.destroy());
  (req as IncomingMessage).pipe(upstream);
}
