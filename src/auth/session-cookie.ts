// The short-lived state of a sign-in (OIDC state, nonce and PKCE verifier; the local form's CSRF
// token; what the sign-in is for) travels in one cookie, a JWE (jose; `dir` with A256GCM, so
// AES-256-GCM under the key itself) so that the browser can neither read nor change it, and
// jose checks its `exp`. The key is a secret in the database, made by the first process that needs
// it, so every replica can finish a sign-in another one started.
// The cookie is HTTP-only, SameSite=Lax (the provider's redirect back is a cross-site top-level
// GET, which Strict would strip), Secure when the registry is served over https, and scoped to /me.

import { randomBytes, subtle } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import type { ServerSecrets } from '../ports/server-secrets.js';

export const LOGIN_COOKIE = 'ck_login';
const KEY_NAME = 'login-cookie-key';
const TTL_SECONDS = 600;
/** The only algorithms a cookie may name: jose would otherwise also open, say, an A256GCMKW token
 * under the same key; a header asking for anything else is refused before any work is done. */
const SEALING = { alg: 'dir', enc: 'A256GCM' } as const;

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
  private key: Promise<CryptoKey> | undefined;

  constructor(
    private readonly secrets: ServerSecrets,
    private readonly secure: () => boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Imported once: jose given the raw bytes imports them on every seal and open (measured a third slower). */
  private getKey(): Promise<CryptoKey> {
    this.key ??= this.secrets
      .getOrCreateSecret(KEY_NAME, () => randomBytes(32).toString('base64url'))
      .then((text) => subtle.importKey('raw', Buffer.from(text, 'base64url'), 'AES-GCM', false, ['encrypt', 'decrypt']));
    // A failure (database down) must not stick: the next request tries again.
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }

  /** The Set-Cookie value that carries `flow` for ten minutes. */
  async seal(flow: LoginFlow): Promise<string> {
    const sealed = await new EncryptJWT({ ...flow })
      .setProtectedHeader(SEALING)
      .setExpirationTime(Math.floor(this.now() / 1000) + TTL_SECONDS)
      .encrypt(await this.getKey());
    return this.cookie(sealed, TTL_SECONDS);
  }

  /** The Set-Cookie value that removes the cookie (a flow is used once). */
  clear(): string {
    return this.cookie('', 0);
  }

  private cookie(value: string, maxAge: number): string {
    return `${LOGIN_COOKIE}=${value}; Path=/me; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${this.secure() ? '; Secure' : ''}`;
  }

  /** The flow in the request's cookie, or undefined when it is missing, forged or expired (or sealed
   * in the hand-made format of earlier versions: its holder simply signs in again). */
  async unseal(cookieHeader: string | undefined): Promise<LoginFlow | undefined> {
    const value = readCookie(cookieHeader, LOGIN_COOKIE);
    if (!value) return undefined;
    try {
      const { payload } = await jwtDecrypt(value, await this.getKey(), {
        keyManagementAlgorithms: [SEALING.alg],
        contentEncryptionAlgorithms: [SEALING.enc],
        requiredClaims: ['exp'],
        // Refused from the second `exp` names on, as before: exp <= floor(now / 1000).
        currentDate: new Date(this.now()),
        clockTolerance: 0,
      });
      return payload as unknown as LoginFlow;
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
