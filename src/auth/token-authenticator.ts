// Resolves the token in a request to the user it speaks for. In the steady state this touches no
// database and does not even wait: a cached principal is found synchronously by the token's hash,
// and last-used times are collected in memory and written in batches. A revocation reaches the
// cache through the change feed (change-feed.ts), within one poll interval on every process.
//
// What a token that is not cached may cost, since anyone can send one:
// - not a cratekeeper token (wrong shape or checksum): refused from memory, no lookup;
// - a token looked up and not found within the last few seconds: refused from memory (negative cache);
// - any other: one lookup by its hash, through a gate (lookup-gate.ts) that runs at most a few at a
//   time per client address and in all; the rest wait their turn, fairly across addresses.
//   Concurrent requests with the same token share one lookup.
// An attacker can compute the checksum, so well-formed unknown tokens are possible; the gate is what
// bounds them: a flood holds at most LOOKUPS_IN_ALL connections, whatever its size or number of
// addresses. An in-memory set of every valid hash would refuse them without any lookup, but it
// would have to follow every token created on any replica, and a token created a moment ago must
// work; refusing lookups for an address that failed too often would lock out the valid tokens of
// everyone behind the same address (NAT, CI runners). Nothing here refuses a token for what other
// requests did: a valid token at worst waits for its turn.

import { rateLimited, type RegistryError } from '../domain/errors.js';
import { hashToken, isWellFormedToken, tokenFromAuthorizationHeader } from '../domain/token.js';
import type { TokenPrincipal, Tokens } from '../ports/tokens.js';
import { LruCache } from '../lib/lru-cache.js';
import { addressKey } from '../lib/address-key.js';
import type { RateLimiter } from '../lib/rate-limiter.js';
import { LookupGate } from './lookup-gate.js';

/** Why a token was refused: `malformed` ones cost nothing, the others a lookup (or a cache entry). */
export type RejectionCause = 'malformed' | 'unknown' | 'expired' | 'session' | 'disabled';

export type AuthOutcome =
  { status: 'ok'; principal: TokenPrincipal } | { status: 'missing' } | { status: 'rejected'; reason: string; cause: RejectionCause };

/**
 * The refusal for a failed token check from `address`, counted against it: `rate-limited` when the
 * address was already over its limit, else undefined (the caller says why the token was refused).
 * Malformed tokens are not counted: refusing them costs nothing, and counting would cost a shared write.
 */
export function countFailedCheck(
  limiter: RateLimiter,
  address: string,
  outcome: AuthOutcome & { status: 'rejected' },
): RegistryError | undefined {
  if (outcome.cause === 'malformed') return undefined;
  const key = addressKey(address);
  const refusal = limiter.refusal(key);
  limiter.record(key);
  if (!refusal) return undefined;
  // Still say what is wrong with this token (an expired one is the common case in CI).
  return rateLimited(refusal.code, `token rejected: ${outcome.reason}; and ${refusal.message}`, refusal.retryAfterSeconds!);
}

const UNKNOWN_TOKEN_TTL_MS = 5_000;
const PRINCIPAL_TTL_MS = 5 * 60_000; // safety net if a change were ever missed
/** Reads of one lookup when changes keep overtaking them (see lookUp). */
const MAX_OVERTAKEN_READS = 3;
/** Lookups of uncached tokens at once, per client address and in all (PostgreSQL's pool has 10 connections). */
const LOOKUPS_PER_ADDRESS = 2;
const LOOKUPS_IN_ALL = 4;
const MISSING: AuthOutcome = { status: 'missing' };
const UNKNOWN: AuthOutcome = { status: 'rejected', reason: 'the token is unknown or revoked', cause: 'unknown' };
const MALFORMED: AuthOutcome = { status: 'rejected', reason: 'the token is not a cratekeeper token', cause: 'malformed' };

interface CachedPrincipal {
  ok: AuthOutcome & { status: 'ok' };
  expiresAtMs: number; // Infinity when the token never expires
  cachedAt: number;
}

/** Whether a cached principal may still answer without a lookup (the safety net, PRINCIPAL_TTL_MS). */
function withinSafetyNet(cached: CachedPrincipal, now: number): boolean {
  return now - cached.cachedAt <= PRINCIPAL_TTL_MS;
}

/**
 * The last `Authorization` header a connection sent and the cache entry it was found by: a
 * keep-alive connection or an HTTP/2 session sends the same header request after request, and a
 * string comparison spares hashing the token each time (the hash was 9.6 % of the lean path's time
 * in a profile of it, bench/README.md). Valid while no change was forgotten since (`forgets`), and
 * within the entry's safety net. It holds the raw header only for the life of the connection that
 * sent it; across connections, the cache is keyed by the token's hash alone.
 */
interface ConnectionMemo {
  authorization: string;
  cached: CachedPrincipal;
  forgets: number;
}

export class TokenAuthenticator {
  private readonly known = new LruCache<string, CachedPrincipal>(100_000);
  private readonly unknown = new LruCache<string, number>(100_000);
  /** Lookups under way, by token hash. */
  private readonly lookups = new Map<string, Promise<AuthOutcome>>();
  /** By connection (an HTTP/1.1 socket, an HTTP/2 session): see ConnectionMemo. */
  private readonly byConnection = new WeakMap<object, ConnectionMemo>();
  /** Changes forgotten so far (forgetTokenHash, forgetUser): a lookup they overtake reads again. */
  private forgets = 0;
  private readonly gate: LookupGate;
  private pendingUse = new Map<number, number>();
  private flushingUse: Promise<void> | undefined;
  private queuedUse: Promise<void> | undefined;

  constructor(
    private readonly tokens: Pick<Tokens, 'findPrincipalByTokenHash' | 'recordTokenUse'>,
    private readonly now: () => number = Date.now,
    lookupsAtOnce: { perAddress: number; total: number } = { perAddress: LOOKUPS_PER_ADDRESS, total: LOOKUPS_IN_ALL },
  ) {
    this.gate = new LookupGate(lookupsAtOnce.perAddress, lookupsAtOnce.total);
  }

  /**
   * The outcome when it can be decided from memory alone, or undefined when the store must be
   * asked (use `authenticate` then). This is the hot path of every index and download request;
   * `connection`, the request's socket or HTTP/2 session, lets a connection's repeated header skip
   * the hash (ConnectionMemo).
   */
  authenticateFromCache(authorization: string | undefined, connection?: object): AuthOutcome | undefined {
    if (connection !== undefined && authorization !== undefined) {
      const memo = this.byConnection.get(connection);
      if (memo !== undefined && memo.authorization === authorization && memo.forgets === this.forgets) {
        const now = this.now();
        if (withinSafetyNet(memo.cached, now)) return this.accept(memo.cached, now);
      }
    }
    const token = tokenFromAuthorizationHeader(authorization);
    if (token === undefined) return MISSING;
    const hash = hashToken(token);
    const cached = this.known.get(hash);
    if (cached !== undefined) {
      const now = this.now();
      if (withinSafetyNet(cached, now)) {
        if (connection !== undefined) this.byConnection.set(connection, { authorization: authorization!, cached, forgets: this.forgets });
        return this.accept(cached, now);
      }
      this.known.delete(hash);
    }
    // Not cached: refuse from memory what needs no lookup to refuse.
    if (!isWellFormedToken(token)) return MALFORMED;
    const unknownUntil = this.unknown.get(hash);
    if (unknownUntil !== undefined && unknownUntil > this.now()) return UNKNOWN;
    return undefined;
  }

  /** The outcome, from memory or with a lookup; `address` (the client's) takes turns with other addresses. */
  async authenticate(authorization: string | undefined, address = ''): Promise<AuthOutcome> {
    const fromCache = this.authenticateFromCache(authorization);
    if (fromCache !== undefined) return fromCache;
    const hash = hashToken(tokenFromAuthorizationHeader(authorization)!);
    let lookup = this.lookups.get(hash);
    if (lookup === undefined) {
      lookup = this.gate.run(addressKey(address), () => this.lookUp(hash)).finally(() => this.lookups.delete(hash));
      this.lookups.set(hash, lookup);
    }
    return lookup;
  }

  /**
   * Reads the token, and caches what it read unless a change (a revocation, a disabled user) was
   * forgotten while it read: that change may have come after the read, and the forget found
   * nothing to drop, so the entry would outlive the revocation by PRINCIPAL_TTL_MS. Such a read
   * is made again; after MAX_OVERTAKEN_READS, what was read answers this request only.
   */
  private async lookUp(hash: string): Promise<AuthOutcome> {
    for (let reads = 1; ; reads++) {
      const forgetsBefore = this.forgets;
      const principal = await this.tokens.findPrincipalByTokenHash(hash);
      const overtaken = this.forgets !== forgetsBefore;
      if (overtaken && reads < MAX_OVERTAKEN_READS) continue;
      const now = this.now();
      if (!principal) {
        if (!overtaken) this.unknown.set(hash, now + UNKNOWN_TOKEN_TTL_MS);
        return UNKNOWN;
      }
      const cached: CachedPrincipal = {
        ok: { status: 'ok', principal },
        expiresAtMs: principal.expiresAt === null ? Infinity : Date.parse(principal.expiresAt),
        cachedAt: now,
      };
      if (!overtaken) this.known.set(hash, cached);
      return this.accept(cached, now);
    }
  }

  private accept(cached: CachedPrincipal, now: number): AuthOutcome {
    if (cached.ok.principal.disabled) {
      const login = cached.ok.principal.login;
      return { status: 'rejected', reason: `the account ${login} is disabled; ask an administrator`, cause: 'disabled' };
    }
    if (cached.expiresAtMs <= now) {
      return { status: 'rejected', reason: `the token expired at ${cached.ok.principal.expiresAt}`, cause: 'expired' };
    }
    this.pendingUse.set(cached.ok.principal.tokenId, now);
    return cached.ok;
  }

  forgetTokenHash(hash: string): void {
    this.forgets++;
    this.known.delete(hash);
  }

  forgetUser(userId: number): void {
    this.forgets++;
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
      await this.tokens.recordTokenUse(batch);
    } catch (error) {
      for (const [id, at] of used) if (!(this.pendingUse.get(id)! >= at)) this.pendingUse.set(id, at);
      throw error;
    }
  }
}
