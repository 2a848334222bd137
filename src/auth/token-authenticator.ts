// Resolves the token in a request to the user it speaks for. In the steady state this touches no
// database and does not even wait: a cached principal is found synchronously by the token's hash,
// unknown tokens are remembered for a few seconds, and last-used times are collected in memory and
// written in batches. A revocation reaches the cache through the change feed (change-feed.ts),
// within one poll interval on every process.

import { hashToken, isWellFormedToken, tokenFromAuthorizationHeader } from '../domain/token.js';
import type { MetadataStore, TokenPrincipal } from '../ports/metadata-store.js';
import { LruCache } from '../services/lru-cache.js';

export type AuthOutcome =
  | { status: 'ok'; principal: TokenPrincipal }
  | { status: 'missing' }
  | { status: 'rejected'; reason: string };

const UNKNOWN_TOKEN_TTL_MS = 5_000;
const PRINCIPAL_TTL_MS = 5 * 60_000; // safety net if a change were ever missed
const MISSING: AuthOutcome = { status: 'missing' };
const UNKNOWN: AuthOutcome = { status: 'rejected', reason: 'the token is unknown or revoked' };
const MALFORMED: AuthOutcome = { status: 'rejected', reason: 'the token is not a cratekeeper token' };

interface CachedPrincipal {
  ok: AuthOutcome & { status: 'ok' };
  expiresAtMs: number; // Infinity when the token never expires
  cachedAt: number;
}

export class TokenAuthenticator {
  private readonly known = new LruCache<string, CachedPrincipal>(100_000);
  private readonly unknown = new LruCache<string, number>(100_000);
  private pendingUse = new Map<number, number>();
  private flushingUse: Promise<void> | undefined;
  private queuedUse: Promise<void> | undefined;

  constructor(
    private readonly store: MetadataStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The outcome when it can be decided from memory alone, or undefined when the store must be
   * asked (use `authenticate` then). This is the hot path of every index and download request.
   */
  authenticateFromCache(authorization: string | undefined): AuthOutcome | undefined {
    const token = tokenFromAuthorizationHeader(authorization);
    if (token === undefined) return MISSING;
    const hash = hashToken(token);
    const cached = this.known.get(hash);
    if (cached === undefined) return undefined;
    const now = this.now();
    if (now - cached.cachedAt > PRINCIPAL_TTL_MS) {
      this.known.delete(hash);
      return undefined;
    }
    return this.accept(cached, now);
  }

  async authenticate(authorization: string | undefined): Promise<AuthOutcome> {
    const fromCache = this.authenticateFromCache(authorization);
    if (fromCache !== undefined) return fromCache;
    const token = tokenFromAuthorizationHeader(authorization)!;
    if (!isWellFormedToken(token)) return MALFORMED;
    const hash = hashToken(token);
    const now = this.now();
    const unknownUntil = this.unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > now) return UNKNOWN;
    const principal = await this.store.findPrincipalByTokenHash(hash);
    if (!principal) {
      this.unknown.set(hash, now + UNKNOWN_TOKEN_TTL_MS);
      return UNKNOWN;
    }
    const cached: CachedPrincipal = {
      ok: { status: 'ok', principal },
      expiresAtMs: principal.expiresAt === null ? Infinity : Date.parse(principal.expiresAt),
      cachedAt: now,
    };
    this.known.set(hash, cached);
    return this.accept(cached, now);
  }

  private accept(cached: CachedPrincipal, now: number): AuthOutcome {
    if (cached.expiresAtMs <= now) {
      return { status: 'rejected', reason: `the token expired at ${cached.ok.principal.expiresAt}` };
    }
    this.pendingUse.set(cached.ok.principal.tokenId, now);
    return cached.ok;
  }

  forgetTokenHash(hash: string): void {
    this.known.delete(hash);
  }

  forgetUser(userId: number): void {
    this.known.deleteWhere((c) => c.ok.principal.userId === userId);
  }

  /**
   * Writes the collected last-used times. One write at a time: calls during one share a single
   * write after it, so a slow or unreachable database never gathers a queue of them. A failed
   * batch is merged back for the next write: an outage costs at most one entry per token.
   */
  flushLastUse(): Promise<void> {
    if (!this.flushingUse) {
      this.flushingUse = this.writeLastUse().finally(() => {
        this.flushingUse = undefined;
      });
      return this.flushingUse;
    }
    this.queuedUse ??= this.flushingUse
      .catch(() => {})
      .then(() => {
        this.queuedUse = undefined;
        return this.flushLastUse();
      });
    return this.queuedUse;
  }

  private async writeLastUse(): Promise<void> {
    if (this.pendingUse.size === 0) return;
    const used = this.pendingUse;
    this.pendingUse = new Map();
    const batch = new Map<number, string>();
    for (const [id, at] of used) batch.set(id, new Date(at).toISOString());
    try {
      await this.store.recordTokenUse(batch);
    } catch (error) {
      for (const [id, at] of used) if (!(this.pendingUse.get(id)! >= at)) this.pendingUse.set(id, at);
      throw error;
    }
  }
}
