// Resolves the token in a request to the user it speaks for. In the steady state this touches no
// database: principals are cached by token hash, unknown tokens are remembered for a few seconds,
// and last-used times are collected in memory and written in batches. A revocation reaches the
// cache through the change feed (see change-feed.ts), within one poll interval on every process.

import { hashToken, isWellFormedToken, tokenFromAuthorizationHeader } from '../domain/token.js';
import type { MetadataStore, TokenPrincipal } from '../ports/metadata-store.js';
import { LruCache } from '../services/lru-cache.js';

export type AuthOutcome =
  | { status: 'ok'; principal: TokenPrincipal }
  | { status: 'missing' }
  | { status: 'rejected'; reason: string };

const UNKNOWN_TOKEN_TTL_MS = 5_000;
const PRINCIPAL_TTL_MS = 5 * 60_000; // safety net if a change were ever missed

interface CachedPrincipal {
  principal: TokenPrincipal;
  hash: string;
  cachedAt: number;
}

export class TokenAuthenticator {
  private readonly known = new LruCache<string, CachedPrincipal>(100_000);
  private readonly unknown = new LruCache<string, number>(100_000);
  private pendingUse = new Map<number, string>();

  constructor(
    private readonly store: MetadataStore,
    private readonly now: () => number = Date.now,
  ) {}

  async authenticate(authorization: string | undefined): Promise<AuthOutcome> {
    const token = tokenFromAuthorizationHeader(authorization);
    if (token === undefined) return { status: 'missing' };
    if (!isWellFormedToken(token)) return { status: 'rejected', reason: 'the token is not a cratekeeper token' };
    const hash = hashToken(token);
    const now = this.now();

    let cached = this.known.get(hash);
    if (cached && now - cached.cachedAt > PRINCIPAL_TTL_MS) {
      this.known.delete(hash);
      cached = undefined;
    }
    if (!cached) {
      const unknownUntil = this.unknown.get(hash);
      if (unknownUntil !== undefined && unknownUntil > now) {
        return { status: 'rejected', reason: 'the token is unknown or revoked' };
      }
      const principal = await this.store.findPrincipalByTokenHash(hash);
      if (!principal) {
        this.unknown.set(hash, now + UNKNOWN_TOKEN_TTL_MS);
        return { status: 'rejected', reason: 'the token is unknown or revoked' };
      }
      cached = { principal, hash, cachedAt: now };
      this.known.set(hash, cached);
    }
    const { principal } = cached;
    if (principal.expiresAt !== null && Date.parse(principal.expiresAt) <= now) {
      return { status: 'rejected', reason: `the token expired at ${principal.expiresAt}` };
    }
    this.pendingUse.set(principal.tokenId, new Date(now).toISOString());
    return { status: 'ok', principal };
  }

  forgetTokenHash(hash: string): void {
    this.known.delete(hash);
  }

  forgetUser(userId: number): void {
    this.known.deleteWhere((c) => c.principal.userId === userId);
  }

  /** Writes the collected last-used times. */
  async flushLastUse(): Promise<void> {
    if (this.pendingUse.size === 0) return;
    const batch = this.pendingUse;
    this.pendingUse = new Map();
    await this.store.recordTokenUse(batch);
  }
}
