// GET requests to an upstream registry: its credentials and the configured extra headers per
// operation, on every hop whose origin may receive them (the index_url's own origin, or one listed
// in `credential_origins`; decided anew for each redirect hop, so a `dl` or a redirect pointing at
// a storage host never hands it the upstream's token), an optional outgoing proxy (the client
// toolkit's connector: http:// CONNECT or socks5://), a deadline, and gzip decoding. Written on
// node:http rather than fetch() because fetch cannot take the proxy connector.

import { request as httpRequest, Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { makeConnector, type Connector, type CredentialResolver, type Operation } from '@cratekeeper/client/network';
import type { SecretOrigins } from './secret-origins.js';

export interface UpstreamResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered (after redirects). */
  url: string;
}

export interface UpstreamHttpOptions {
  credentials: CredentialResolver | undefined;
  proxy: string | undefined;
  headers: Record<Operation, Record<string, string>>;
  /** Where the credentials and the extra headers may go. */
  secretOrigins: SecretOrigins;
}

export interface GetOptions {
  operation: Operation;
  headers?: Record<string, string>;
  timeoutMs: number;
  maxBytes?: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 10;
const DEFAULT_MAX_BYTES = 512 * 1024 ** 2;

export class UpstreamHttpError extends Error {
  override readonly name = 'UpstreamHttpError';
}

export class UpstreamHttp {
  private readonly connector: Connector | undefined;
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true, maxSockets: 16 }),
    https: new HttpsAgent({ keepAlive: true, maxSockets: 16 }),
  };

  constructor(private readonly options: UpstreamHttpOptions) {
    this.connector = options.proxy !== undefined ? makeConnector(options.proxy) : undefined;
  }

  async get(input: string, options: GetOptions): Promise<UpstreamResponse> {
    const deadline = Date.now() + options.timeoutMs;
    let url = new URL(input);
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'cratekeeper-mirror', ...options.headers };
      Object.assign(headers, await this.secretHeaders(url, options.operation));
      const response = await this.once(url, headers, deadline, options.maxBytes ?? DEFAULT_MAX_BYTES);
      const location = response.headers.location;
      if (!REDIRECTS.has(response.status) || location === undefined) return response;
      if (hop >= MAX_REDIRECTS) throw new UpstreamHttpError(`too many redirects from ${input}`);
      const next = new URL(location, url);
      if (url.protocol === 'https:' && next.protocol !== 'https:')
        throw new UpstreamHttpError(`refusing a redirect from https to ${next.protocol} (${next.host})`);
      url = next;
    }
  }

  /** The extra headers and credentials for a request to `url`: none unless its origin may have them. */
  private async secretHeaders(url: URL, operation: Operation): Promise<Record<string, string>> {
    const origins = this.options.secretOrigins;
    if (!origins.allows(url)) return {};
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.options.headers[operation])) out[name.toLowerCase()] = value;
    const auth = await this.options.credentials?.resolve(origins.onHome(url), operation);
    for (const [name, value] of auth?.headers ?? []) out[name.toLowerCase()] = value;
    return out;
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private createConnection(url: URL): ((opts: object, callback: (error: Error | null, socket: Duplex) => void) => undefined) | undefined {
    const connector = this.connector;
    if (connector === undefined) return undefined;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return (_opts, callback) => {
      connector(host, port).then(
        (socket) =>
          callback(
            null,
            url.protocol === 'https:'
              ? tlsConnect({ socket, host, ...(isIP(host) === 0 ? { servername: host } : {}), ALPNProtocols: ['http/1.1'] })
              : socket,
          ),
        (error: Error) => callback(error, undefined as unknown as Duplex),
      );
      return undefined;
    };
  }

  private once(url: URL, headers: Record<string, string>, deadline: number, maxBytes: number): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        reject(new UpstreamHttpError(`no answer from ${url.host} in time`));
        return;
      }
      const https = url.protocol === 'https:';
      const createConnection = this.createConnection(url);
      const req = (https ? httpsRequest : httpRequest)(url, {
        method: 'GET',
        headers,
        // No `agent` with createConnection: Node ignores createConnection when given `agent: false`.
        ...(createConnection ? { createConnection } : { agent: https ? this.agents.https : this.agents.http }),
      });
      const timer = setTimeout(
        () => req.destroy(new UpstreamHttpError(`no complete answer from ${url.host} within the timeout`)),
        remaining,
      );
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error instanceof UpstreamHttpError ? error : new UpstreamHttpError(`${url.host}: ${error.message}`, { cause: error }));
      };
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) req.destroy(new UpstreamHttpError(`${url.href}: answer larger than ${maxBytes} bytes`));
          else chunks.push(chunk);
        });
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          let body = Buffer.concat(chunks);
          try {
            if (headers['accept-encoding']?.includes('gzip') && res.headers['content-encoding'] === 'gzip')
              body = gunzipSync(body, { maxOutputLength: maxBytes });
          } catch (error) {
            fail(new UpstreamHttpError(`${url.href}: bad gzip body: ${(error as Error).message}`));
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, url: url.href });
        });
      });
      req.end();
    });
  }
}
