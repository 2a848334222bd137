// The registry's OAuth endpoints as the client uses them: discovery (RFC 8414) from the index URL,
// the device authorization request (RFC 8628), the token endpoint's device-code and refresh-token
// grants, and revocation (RFC 7009). Every call is a form POST as the RFCs say; an error answer
// becomes an OAuthError carrying the RFC's error name and the server's description, which is
// written for the person at the terminal and shown as it is.

export const CLIENT_ID = 'cratekeeper-cli';
export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

export interface AuthorizationServer {
  issuer: string;
  device_authorization_endpoint: string;
  token_endpoint: string;
  revocation_endpoint?: string;
}

export interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  scope?: string;
}

/** An error answer of the authorization server: `error` is the RFC's name, e.g. `invalid_grant`. */
export class OAuthError extends Error {
  readonly code = 'OAUTH';
  constructor(
    readonly error: string,
    readonly description: string | undefined,
    readonly status: number,
  ) {
    super(description ? `${description} (${error})` : error);
  }
}

/** The server could not be reached, or answered something that is not OAuth (a 5xx, HTML, ...). */
export class OAuthUnavailableError extends Error {
  readonly code = 'OAUTH_UNAVAILABLE';
}

export type Fetch = typeof fetch;

/** `<origin>/.well-known/oauth-authorization-server` of the registry that serves this index. */
export function discoveryUrl(indexUrl: string): URL {
  return new URL('/.well-known/oauth-authorization-server', indexUrl.replace(/^sparse\+/, ''));
}

async function readJson(response: Response, what: string): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new OAuthUnavailableError(`${what} answered ${response.status} with something that is not a JSON object: ${text.slice(0, 200)}`);
}

async function send(fetchImpl: Fetch, url: string | URL, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetchImpl(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new OAuthUnavailableError(
      `could not reach ${what} at ${url.toString()} (${cause?.code ?? cause?.message ?? (error as Error).message})`,
    );
  }
}

/** The registry's authorization server metadata; undefined when it offers no terminal sign-in (404). */
export async function discoverAuthorizationServer(indexUrl: string, fetchImpl: Fetch = fetch): Promise<AuthorizationServer | undefined> {
  const url = discoveryUrl(indexUrl);
  const response = await send(fetchImpl, url, { headers: { accept: 'application/json' } }, 'the registry');
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new OAuthUnavailableError(`${url.href} answered ${response.status}`);
  }
  const body = await readJson(response, url.href);
  for (const field of ['issuer', 'device_authorization_endpoint', 'token_endpoint'] as const) {
    if (typeof body[field] !== 'string') throw new OAuthUnavailableError(`${url.href} has no "${field}"`);
  }
  return body as unknown as AuthorizationServer;
}

/** POSTs a form; returns the JSON body of a 200, throws OAuthError for an RFC error answer. */
async function postForm(
  fetchImpl: Fetch,
  endpoint: string,
  fields: Record<string, string>,
  options: { bodyless?: boolean } = {},
): Promise<Record<string, unknown>> {
  const response = await send(
    fetchImpl,
    endpoint,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ client_id: CLIENT_ID, ...fields }).toString(),
    },
    'the registry',
  );
  if (response.status === 429) {
    await response.body?.cancel();
    const after = response.headers.get('retry-after');
    throw new OAuthError(
      'rate_limited',
      `the registry is limiting sign-in requests from this address${after ? `; try again in ${after} s` : ''}`,
      429,
    );
  }
  if (response.status >= 500) {
    await response.body?.cancel();
    throw new OAuthUnavailableError(`${endpoint} answered ${response.status}`);
  }
  if (response.status === 200 && options.bodyless) {
    await response.body?.cancel();
    return {};
  }
  const body = await readJson(response, endpoint);
  if (response.status === 200) return body;
  if (typeof body.error === 'string') {
    throw new OAuthError(body.error, typeof body.error_description === 'string' ? body.error_description : undefined, response.status);
  }
  throw new OAuthUnavailableError(`${endpoint} answered ${response.status} without an OAuth error`);
}

function tokenResponse(body: Record<string, unknown>, endpoint: string): TokenResponse {
  if (typeof body.access_token !== 'string' || typeof body.refresh_token !== 'string' || typeof body.expires_in !== 'number') {
    throw new OAuthUnavailableError(`${endpoint} answered without access_token, refresh_token and expires_in`);
  }
  return body as unknown as TokenResponse;
}

export async function requestDeviceAuthorization(
  server: AuthorizationServer,
  request: { scope?: string | undefined; deviceName?: string | undefined },
  fetchImpl: Fetch = fetch,
): Promise<DeviceAuthorization> {
  const fields: Record<string, string> = {};
  if (request.scope) fields.scope = request.scope;
  if (request.deviceName) fields.device_name = request.deviceName;
  const body = await postForm(fetchImpl, server.device_authorization_endpoint, fields);
  if (typeof body.device_code !== 'string' || typeof body.user_code !== 'string' || typeof body.verification_uri !== 'string') {
    throw new OAuthUnavailableError(`${server.device_authorization_endpoint} answered without device_code, user_code and verification_uri`);
  }
  return body as unknown as DeviceAuthorization;
}

export async function exchangeDeviceCode(
  server: AuthorizationServer,
  deviceCode: string,
  fetchImpl: Fetch = fetch,
): Promise<TokenResponse> {
  const body = await postForm(fetchImpl, server.token_endpoint, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode });
  return tokenResponse(body, server.token_endpoint);
}

export async function refreshTokens(server: AuthorizationServer, refreshToken: string, fetchImpl: Fetch = fetch): Promise<TokenResponse> {
  const body = await postForm(fetchImpl, server.token_endpoint, { grant_type: 'refresh_token', refresh_token: refreshToken });
  return tokenResponse(body, server.token_endpoint);
}

/** Revokes the device session the token belongs to (the server answers 200 even for unknown tokens). */
export async function revokeToken(server: AuthorizationServer, token: string, fetchImpl: Fetch = fetch): Promise<void> {
  const endpoint = server.revocation_endpoint ?? new URL('/oauth/revoke', server.token_endpoint).href;
  await postForm(fetchImpl, endpoint, { token }, { bodyless: true });
}
