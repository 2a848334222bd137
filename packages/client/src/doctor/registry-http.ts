// One HTTP request as cargo would send it with the resolved settings: through the chosen proxy (a
// CONNECT tunnel for https, an absolute URL for http), trusting only `http.cainfo`'s certificates
// when it is set (else the system's and Node's roots), with the token as the bare
// `Authorization` header. Failures are sorted by kind so that doctor can name the setting to fix.

import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { connect as tlsConnect, rootCertificates } from 'node:tls';
import { makeConnector, UpstreamProxyError } from '../upstream-connector.js';

export interface HttpSettings {
  /** PEM certificates to trust (http.cainfo); undefined: the system's and Node's roots. */
  ca?: string;
  proxy?: URL;
  timeoutMs?: number;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export type HttpFailureKind = 'tls' | 'proxy' | 'network' | 'timeout';

export class HttpProbeError extends Error {
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
  ) {
    super(message);
  }
}

const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

let defaultRoots: string[] | undefined;
function defaultTrust(): string[] {
  defaultRoots ??= [...rootCertificates, ...(existsSync(SYSTEM_BUNDLE) ? [readFileSync(SYSTEM_BUNDLE, 'utf8')] : [])];
  return defaultRoots;
}

function classify(error: Error & { code?: string }): HttpProbeError {
  if (error instanceof HttpProbeError) return error;
  if (error instanceof UpstreamProxyError) return new HttpProbeError('proxy', error.message);
  if (error.code !== undefined && TLS_CODES.has(error.code)) return new HttpProbeError('tls', `${error.code}: ${error.message}`);
  return new HttpProbeError('network', error.code ? `${error.code}: ${error.message}` : error.message);
}

function targetPort(url: URL): number {
  return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
}

/** An https request's socket: TLS over the proxy's CONNECT tunnel. */
async function tunnelledTls(url: URL, proxy: URL, ca: string[]): Promise<Socket> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const raw = await makeConnector(proxy.href)(host, targetPort(url));
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ socket: raw, ca, ...(isIP(host) ? {} : { servername: host }), ALPNProtocols: ['http/1.1'] });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

export async function httpGet(url: URL, settings: HttpSettings, options: { token?: string; method?: string } = {}): Promise<HttpAnswer> {
  const ca = settings.ca !== undefined ? [settings.ca] : defaultTrust();
  const headers: Record<string, string> = {
    'user-agent': 'cratekeeper-doctor',
    accept: 'text/plain, application/json',
    'cargo-protocol': 'version=1',
    ...(options.token !== undefined ? { authorization: options.token } : {}),
  };
  const method = options.method ?? 'GET';
  if (method !== 'GET') headers['content-length'] = '0';
  let requestOptions: RequestOptions & { ca?: string[] };
  let send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  if (settings.proxy && url.protocol === 'https:') {
    let socket: Socket;
    try {
      socket = await tunnelledTls(url, settings.proxy, ca);
    } catch (error) {
      throw classify(error as Error);
    }
    send = httpRequest;
    requestOptions = { method, headers: { ...headers, host: url.host }, path: url.pathname + url.search, createConnection: () => socket };
  } else if (settings.proxy) {
    requestOptions = {
      method,
      headers: { ...headers, host: url.host },
      host: settings.proxy.hostname,
      port: targetPort(settings.proxy),
      path: url.href,
    };
  } else {
    requestOptions = {
      method,
      headers,
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: targetPort(url),
      path: url.pathname + url.search,
      ca,
    };
  }
  return new Promise((resolve, reject) => {
    const request = send({ ...requestOptions, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', (error) => reject(classify(error)));
    });
    request.setTimeout(settings.timeoutMs ?? 30_000, () =>
      request.destroy(new HttpProbeError('timeout', `no answer within ${(settings.timeoutMs ?? 30_000) / 1000} s`)),
    );
    request.on('error', (error: Error & { code?: string }) => {
      // Plain http through a proxy: a connection that fails before any answer failed at the proxy.
      const atProxy = settings.proxy !== undefined && url.protocol === 'http:' && !(error instanceof HttpProbeError);
      reject(atProxy ? new HttpProbeError('proxy', `${error.code ?? ''} ${error.message}`.trim()) : classify(error));
    });
    request.end();
  });
}

/** The server's own words from an error answer: cargo's `{"errors":[{"detail":...}]}`, else the start of the body. */
export function errorDetail(answer: HttpAnswer): string {
  const text = answer.body.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { errors?: Array<{ detail?: string }> };
    const details = parsed.errors?.map((e) => e.detail).filter((d): d is string => typeof d === 'string');
    if (details && details.length > 0) return details.join('; ');
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.trim().slice(0, 300) || '(empty body)';
}
