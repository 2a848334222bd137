// A real OpenID provider for tests: `oidc-provider` (a certified implementation) on 127.0.0.1 and
// a port the OS chose, with its development login and consent pages. Accounts are keyed by `sub`
// (type the sub on the login page) and send `preferred_username` and a `groups` claim from the
// userinfo endpoint, as GitLab does. Clients are kept in the provider's adapter so that a client
// can be registered once the registry's URL (and so its callback) is known.
// Also here: `startCiIssuer`, a minimal issuer (discovery + JWKS) that mints ID tokens like a CI
// platform's, and `signInWithHttp`, a cookie-keeping HTTP client that walks the provider's pages.

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';

export interface TestAccount {
  preferred_username?: string;
  nickname?: string;
  email?: string;
  /** Whether the provider vouches for the e-mail address; absent: the claim is not sent. */
  email_verified?: boolean;
  groups?: string[];
}

export interface TestOidcProvider {
  issuer: string;
  /** The port it listens on (its issuer's, unless given another). */
  port: number;
  clientId: string;
  clientSecret: string;
  /** Registers the client with this redirect URI (the registry's `/me/callback`). */
  allowRedirect(uri: string): Promise<void>;
  stop(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** oidc-provider's storage, in memory. */
function memoryAdapter() {
  const models = new Map<string, Map<string, AdapterPayload>>();
  return class MemoryAdapter implements Adapter {
    private readonly items: Map<string, AdapterPayload>;
    constructor(name: string) {
      if (!models.has(name)) models.set(name, new Map());
      this.items = models.get(name)!;
    }
    async upsert(id: string, payload: AdapterPayload) {
      this.items.set(id, payload);
    }
    async find(id: string) {
      return this.items.get(id);
    }
    async findByUserCode(code: string) {
      return [...this.items.values()].find((p) => p.userCode === code);
    }
    async findByUid(uid: string) {
      return [...this.items.values()].find((p) => p.uid === uid);
    }
    async consume(id: string) {
      const item = this.items.get(id);
      if (item) item.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      this.items.delete(id);
    }
    async revokeByGrantId(grantId: string) {
      for (const [id, p] of this.items) if (p.grantId === grantId) this.items.delete(id);
    }
  };
}

/** `options.issuer`: the URL it is reached at when that is not its own (a proxy in front of it). */
export async function startOidcProvider(
  accounts: Record<string, TestAccount>,
  options: {
    issuer?: string;
    /** false: the discovery document does not list `offline_access`. */
    offlineAccess?: boolean;
    /** false: the registry's client may not use refresh tokens (`offline_access` is dropped from its sign-ins). */
    refreshTokens?: boolean;
  } = {},
): Promise<TestOidcProvider> {
  const server = createServer();
  const port = await listen(server);
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const Adapter = memoryAdapter();
  const clientId = 'cratekeeper';
  const clientSecret = `secret-${randomUUID()}`;
  const provider = new Provider(issuer, {
    adapter: Adapter,
    clients: [],
    cookies: { keys: [randomUUID()] },
    pkce: { required: () => true },
    // GitLab's shape: groups from the userinfo endpoint with the openid scope.
    claims: { openid: ['sub', 'groups'], profile: ['preferred_username', 'nickname', 'name'], email: ['email', 'email_verified'] },
    features: { devInteractions: { enabled: true } },
    ...(options.offlineAccess === false ? { scopes: ['openid'] } : {}),
    async findAccount(_ctx, sub) {
      const account = accounts[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account }) };
    },
  });
  // oidc-provider logs its development-only warnings on the console; they are expected here.
  server.on('request', provider.callback());
  return {
    issuer,
    port,
    clientId,
    clientSecret,
    async allowRedirect(uri) {
      await new Adapter('Client').upsert(clientId, {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [uri],
        // Refresh tokens for sign-ins that ask for offline_access (a device approval, issue 17).
        grant_types:
          options.refreshTokens === false || options.offlineAccess === false
            ? ['authorization_code']
            : ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
    },
    stop: () => close(server),
  };
}

export interface CiIssuer {
  issuer: string;
  /** Signs an ID token with the issuer's key; claims override the defaults (iat now, exp in 5 min, a fresh jti). */
  mint(claims: jose.JWTPayload): Promise<string>;
  /** Signs with a key the issuer does not publish. */
  mintForged(claims: jose.JWTPayload): Promise<string>;
  stop(): Promise<void>;
}

/**
 * An OIDC issuer as CI platforms run them: a discovery document (with `jwks_uri`, and without a
 * userinfo endpoint) and a JWKS. With `discoveryExtra`, more fields go into the document.
 */
export async function startCiIssuer(discoveryExtra: Record<string, unknown> = {}): Promise<CiIssuer> {
  const { privateKey, publicKey } = await jose.generateKeyPair('RS256');
  const forged = await jose.generateKeyPair('RS256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'ci-key-1', alg: 'RS256', use: 'sig' };
  const server = createServer((request, response) => {
    const json = (body: unknown) => response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (request.url === '/.well-known/openid-configuration') {
      json({
        issuer,
        jwks_uri: `${issuer}/oauth/discovery/keys`,
        authorization_endpoint: `${issuer}/oauth/authorize`,
        token_endpoint: `${issuer}/oauth/token`,
        response_types_supported: ['id_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        ...discoveryExtra,
      });
    } else if (request.url === '/oauth/discovery/keys') json({ keys: [jwk] });
    else response.writeHead(404).end();
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const sign = (key: jose.CryptoKey, claims: jose.JWTPayload) => {
    const now = Math.floor(Date.now() / 1000);
    return new jose.SignJWT({ iss: issuer, iat: now, nbf: now, exp: now + 300, jti: randomUUID(), ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'ci-key-1', typ: 'JWT' })
      .sign(key);
  };
  return {
    issuer,
    mint: (claims) => sign(privateKey, claims),
    mintForged: (claims) => sign(forged.privateKey, claims),
    stop: () => close(server),
  };
}

/** A cookie jar by host (as browsers do, ports aside) and path prefix. */
class CookieJar {
  private readonly cookies = new Map<string, { value: string; path: string }>();

  store(url: URL, setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const path =
        attributes
          .map((a) => a.trim())
          .find((a) => a.toLowerCase().startsWith('path='))
          ?.slice(5) ?? '/';
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /expires=Thu, 01 Jan 1970/i.test(a));
      const key = `${url.hostname} ${path} ${name}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { value, path });
    }
  }

  header(url: URL): string {
    const out: string[] = [];
    for (const [key, cookie] of this.cookies) {
      const [host, , name] = key.split(' ');
      if (host === url.hostname && url.pathname.startsWith(cookie.path)) out.push(`${name}=${cookie.value}`);
    }
    return out.join('; ');
  }
}

export interface PageResult {
  status: number;
  url: string;
  body: string;
  headers: Headers;
}

const MAX_STEPS = 20;

/** A browser without a browser: follows redirects and keeps cookies. */
export class HttpBrowser {
  readonly jar = new CookieJar();

  async go(start: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<PageResult> {
    let url = new URL(start);
    let method = init.method ?? 'GET';
    let body: string | undefined = init.form ? new URLSearchParams(init.form).toString() : undefined;
    for (let step = 0; step < MAX_STEPS; step++) {
      const headers: Record<string, string> = { cookie: this.jar.header(url) };
      if (body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
      const response = await fetch(url, { method, headers, body, redirect: 'manual' });
      this.jar.store(url, response.headers.getSetCookie());
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.arrayBuffer();
        url = new URL(location, url);
        method = 'GET';
        body = undefined;
        continue;
      }
      return { status: response.status, url: url.href, body: await response.text(), headers: response.headers };
    }
    throw new Error(`more than ${MAX_STEPS} redirects from ${start}`);
  }

  /** Submits the page's (first) form with these fields added to its hidden ones. */
  submit(page: PageResult, fields: Record<string, string> = {}): Promise<PageResult> {
    const form = /<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(page.body);
    if (!form) throw new Error(`no form on ${page.url}:\n${page.body.slice(0, 2000)}`);
    const hidden: Record<string, string> = {};
    for (const input of form[2]!.matchAll(/<input[^>]*type="hidden"[^>]*>/gi)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name) hidden[name] = value.replace(/&#(\d+);/g, (_m, c: string) => String.fromCharCode(Number(c))).replace(/&amp;/g, '&');
    }
    return this.go(new URL(form[1]!.replace(/&amp;/g, '&'), page.url).href, { method: 'POST', form: { ...hidden, ...fields } });
  }
}

/**
 * Signs in at the registry's `path` (`/me` or `/me/replace_token`) through the provider's login
 * and consent pages, as `sub`; returns the registry's final page.
 */
export async function signInWithHttp(registryUrl: string, sub: string, path = '/me', browser = new HttpBrowser()): Promise<PageResult> {
  let page = await browser.go(`${registryUrl}${path}`);
  for (let step = 0; step < 4 && !page.url.startsWith(registryUrl); step++) {
    if (/name="prompt" value="login"/.test(page.body)) page = await browser.submit(page, { login: sub, password: 'any' });
    else if (/name="prompt" value="consent"/.test(page.body)) page = await browser.submit(page);
    else throw new Error(`unexpected provider page ${page.url} (${page.status}):\n${page.body.slice(0, 2000)}`);
  }
  return page;
}

/** The token shown on a registry's token page. */
export function tokenOnPage(body: string): string {
  const token = /<code class="token" id="token">([^<]+)<\/code>/.exec(body)?.[1];
  if (!token) throw new Error(`no token on the page:\n${body.slice(0, 3000)}`);
  return token;
}
