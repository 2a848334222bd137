// Capability tickets for the documentation pages (docs/rustdoc.md, "Isolation"). Docs are served in
// a CSP sandbox without `allow-same-origin`: the page runs in an opaque origin, so its requests for
// CSS, scripts and the search index carry no session cookie. The first request, which does carry
// the session (or a token), is answered with a redirect to `/docs/~<ticket>/<crate>/<version>/...`;
// rustdoc's relative URLs then carry the ticket. A ticket is an HMAC, under a secret every replica
// shares, over the token it was issued for, the crate, the version and an expiry; each request with
// it looks that token up again (revoked, expired or disabled: refused) and checks the access rules.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServerSecrets } from '../ports/server-secrets.js';

const SECRET_NAME = 'docs-ticket-key';

export interface DocsTicket {
  /** The token (or browser session) the ticket was issued for; 0: an anonymous reader. */
  tokenId: number;
  crate: string;
  version: string;
  /** Seconds since the epoch. */
  expiresAt: number;
}

export class DocsTickets {
  constructor(
    private readonly secrets: ServerSecrets,
    private readonly lifetimeMs: number,
    private readonly now: () => number,
  ) {}

  private async mac(tokenId: number, crate: string, version: string, expiresAt: number): Promise<string> {
    const key = await this.secrets.getOrCreateSecret(SECRET_NAME, () => randomBytes(32).toString('base64url'));
    return createHmac('sha256', key).update(`docs\n${tokenId}\n${crate.toLowerCase()}\n${version}\n${expiresAt}`).digest('base64url');
  }

  /** A ticket (`<token id>.<expiry>.<mac>`) for the reader to read one version's docs. */
  async issue(tokenId: number, crate: string, version: string): Promise<string> {
    const expiresAt = Math.floor((this.now() + this.lifetimeMs) / 1000);
    return `${tokenId}.${expiresAt}.${await this.mac(tokenId, crate, version, expiresAt)}`;
  }

  /** The ticket's token id when it is genuine, for this crate and version, and not expired. */
  async verify(ticket: string, crate: string, version: string): Promise<number | undefined> {
    const m = /^(\d{1,15})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
    if (!m) return undefined;
    const tokenId = Number(m[1]);
    const expiresAt = Number(m[2]);
    if (expiresAt * 1000 <= this.now()) return undefined;
    const expected = Buffer.from(await this.mac(tokenId, crate, version, expiresAt));
    const sent = Buffer.from(m[3]!);
    return sent.length === expected.length && timingSafeEqual(sent, expected) ? tokenId : undefined;
  }
}
