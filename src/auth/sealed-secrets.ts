// Secrets the registry must keep but never show: the identity provider's refresh tokens of device
// sessions. AES-256-GCM under a key kept in the database's server secrets (every replica reads the
// same one), so that a copy of the tokens table alone, or an export, does not hand them out.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { ServerSecrets } from '../ports/server-secrets.js';

const KEY_NAME = 'provider-token-key';
const VERSION = 'v1';

export class SealedSecrets {
  private key: Promise<Buffer> | undefined;

  constructor(private readonly secrets: ServerSecrets) {}

  private getKey(): Promise<Buffer> {
    this.key ??= this.secrets
      .getOrCreateSecret(KEY_NAME, () => randomBytes(32).toString('base64url'))
      .then((text) => Buffer.from(text, 'base64url'));
    this.key.catch(() => (this.key = undefined));
    return this.key;
  }

  async seal(plain: string): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', await this.getKey(), iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The plain text, or undefined when the sealed text is damaged or sealed under another key. */
  async open(sealed: string): Promise<string | undefined> {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== VERSION || !iv || body === undefined || !tag) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', await this.getKey(), Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
