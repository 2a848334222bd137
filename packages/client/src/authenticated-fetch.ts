// fetch() with the configured credentials, following redirects by hand so that every hop gets the
// headers of its own host and nothing else: a registry that redirects downloads to a storage host
// never hands that host its own token (a host that is itself configured gets its own credentials).
// Meant for server-side reuse (mirroring an authenticated upstream) as much as for the client.

import type { Operation } from './auth-config.js';
import type { CredentialResolver } from './credential-resolver.js';

export interface AuthenticatedFetchOptions {
  operation?: Operation;
  maxRedirects?: number;
  /** Headers of the caller's own; any that a hop's credentials set are replaced. */
  headers?: Record<string, string>;
  method?: string;
  signal?: AbortSignal;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that can carry credentials and are dropped when a redirect leaves the origin. */
const SENSITIVE = ['authorization', 'proxy-authorization', 'cookie'];

export async function authenticatedFetch(
  resolver: CredentialResolver,
  input: string | URL,
  options: AuthenticatedFetchOptions = {},
): Promise<Response> {
  let url = new URL(input);
  let method = options.method ?? 'GET';
  const firstOrigin = url.origin;
  const maxRedirects = options.maxRedirects ?? 10;
  for (let hop = 0; ; hop++) {
    const headers = new Headers(options.headers);
    if (url.origin !== firstOrigin) for (const name of SENSITIVE) headers.delete(name);
    const auth = await resolver.resolve(url, options.operation);
    for (const [name, value] of auth?.headers ?? []) headers.set(name, value);
    const response = await fetch(url, { method, headers, redirect: 'manual', signal: options.signal });
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || location === null) return response;
    if (hop >= maxRedirects) throw new Error(`too many redirects (more than ${maxRedirects}) from ${input.toString()}`);
    await response.body?.cancel();
    const next = new URL(location, url);
    if (url.protocol === 'https:' && next.protocol !== 'https:')
      throw new Error(`refusing a redirect from https to ${next.protocol} (${next.host})`);
    if (response.status === 303 && method !== 'HEAD') method = 'GET';
    url = next;
  }
}
