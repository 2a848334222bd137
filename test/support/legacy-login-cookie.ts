// The login cookie as versions before the JWE sealed it by hand: AES-256-GCM under the same
// database key, base64url(iv ‖ ciphertext ‖ tag) of the flow's JSON with its `exp`. Such a cookie
// can still be in a browser when a registry is upgraded (it lives ten minutes); tests use this to
// check that it is refused cleanly and its holder simply signs in again.

import { createCipheriv, randomBytes } from 'node:crypto';
import type { LoginFlow } from '../../src/auth/session-cookie.js';
import type { ServerSecrets } from '../../src/ports/server-secrets.js';

/** The cookie's value (what follows `ck_login=`), valid for ten minutes from `nowMs`. */
export async function legacyLoginCookieValue(secrets: ServerSecrets, flow: LoginFlow, nowMs: number): Promise<string> {
  const key = Buffer.from(await secrets.getOrCreateSecret('login-cookie-key', () => randomBytes(32).toString('base64url')), 'base64url');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const plain = Buffer.from(JSON.stringify({ ...flow, exp: Math.floor(nowMs / 1000) + 600 }));
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString('base64url');
}
