// The short-lived state of a sign-in (OIDC state, nonce and PKCE verifier; the local form's CSRF
// token; what the sign-in is for) travels in one cookie, sealed with AES-256-GCM so that the
// browser can neither read nor change it. The key is a secret in the database, made by the first
// process that needs it, so every replica can finish a sign-in another one started.
// The cookie is HTTP-only, SameSite=Lax (the provider's redirect back is a cross-site top-level
// GET, which Strict would strip), Secure when the registry is served over https, and scoped to /me.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ServerSecrets } from '../ports/server-secrets.js';

export const LOGIN_COOKIE = 'ck_login';
const KEY_NAME = 'login-cookie-key';
const TTL_SECONDS = 600;

/** token: show the cargo token (/me); replace: replace it; web: sign in to the web pages. */
export type LoginPurpose = 'token' | 'replace' | 'web';

export interface LoginFlow {
  purpose: LoginPurpose;
  /** web: the page (a path on this site) to return to. */
  next?: string;
  /** OIDC */
  state?: string;
  nonce?: string;
  codeVerifier?: string;
  /** Local form */
  csrf?: string;
}

export class SessionCookies {
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly secrets: ServerSecrets,
    private readonly secure: () => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  private getKey(): Promise<Buffer> {
    this.key ??= this.secrets
      .getOrCreateSecret(KEY_NAME, () => randomBytes(32).toString('base64url'))
      .then((text) => Buffer.from(text, 'base64url'));
    // A failure (database down) must not stick: the next request tries again.
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }

  /** The Set-Cookie value that carries `flow` for ten minutes. */
  async seal(flow: LoginFlow): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.getKey(), iv);
    const plain = Buffer.from(JSON.stringify({ ...flow, exp: Math.floor(this.now() / 1000) + TTL_SECONDS }));
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url');
    return this.cookie(sealed, TTL_SECONDS);
  }

  /** The Set-Cookie value that removes the cookie (a flow is used once). */
  clear(): string {
    return this.cookie('', 0);
  }

  private cookie(value: string, maxAge: number): string {
    return `${LOGIN_COOKIE}=${value}; Path=/me; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${this.secure() ? '; Secure' : ''}`;
  }

  /** The flow in the request's cookie, or undefined when it is missing, forged or expired. */
  async unseal(cookieHeader: string | undefined): Promise<LoginFlow | undefined> {
    const value = readCookie(cookieHeader, LOGIN_COOKIE);
    if (!value) return undefined;
    const bytes = Buffer.from(value, 'base64url');
    if (bytes.length < 12 + 16 + 2) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', await this.getKey(), bytes.subarray(0, 12));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      const plain = Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]);
      const flow = JSON.parse(plain.toString('utf8')) as LoginFlow & { exp: number };
      if (flow.exp * 1000 <= this.now()) return undefined;
      return flow;
    } catch {
      return undefined;
    }
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
