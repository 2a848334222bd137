// A rate limiter per key (a user, a client address), in memory, over a sliding one-minute window
// (sliding-window.ts): no window edge lets twice the limit through, and a refusal's Retry-After is
// exact. Each process counts for itself; services/shared-rate-limiter.ts adds counts shared by every process
// and replica on one database.

import { rateLimited, type RegistryError } from '../domain/errors.js';
import { LruCache } from './lru-cache.js';
import { msUntilAllowed, windowOf, withEvent, type WindowCounts } from './sliding-window.js';

export class RateLimiter {
  private readonly localCounts = new LruCache<string, WindowCounts>(100_000);

  constructor(
    /** Events a key may have in any sliding minute. */
    readonly limit: number,
    private readonly what: string,
    protected readonly now: () => number = Date.now,
  ) {}

  /** How long until `key` may have one more event (0: now). */
  protected msUntilAllowed(key: string, nowMs: number): number {
    const counts = this.localCounts.get(key);
    return counts === undefined ? 0 : msUntilAllowed(counts, nowMs, this.limit);
  }

  /** The `rate-limited` error (with Retry-After) that one more event for `key` would get, if any. */
  refusal(key: string): RegistryError | undefined {
    const waitMs = this.msUntilAllowed(key, this.now());
    if (waitMs === 0) return undefined;
    const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
    return rateLimited('rate-limited', `too many ${this.what}; try again in ${retryAfterSeconds} s`, retryAfterSeconds);
  }

  /** Throws `rate-limited` (with Retry-After) when `key` has no room for one more event. */
  assertNotExceeded(key: string): void {
    const refusal = this.refusal(key);
    if (refusal) throw refusal;
  }

  /** Counts one event for `key` when it fits, else throws like assertNotExceeded (and counts nothing). */
  take(key: string): void {
    this.assertNotExceeded(key);
    this.count(key);
  }

  /** Counts one event that happened anyway (a failure), without throwing; returns when it was counted. */
  record(key: string): number {
    return this.count(key);
  }

  /**
   * Takes back an event that `record` counted at `countedAtMs` (an attempt counted up front that
   * turned out not to be a failure). In this process's counts only.
   */
  release(key: string, countedAtMs: number): void {
    const counts = this.localCounts.get(key);
    const window = windowOf(countedAtMs);
    if (counts?.window === window && counts.current > 0) counts.current--;
    else if (counts?.window === window + 1 && counts.previous > 0) counts.previous--;
  }

  protected count(key: string): number {
    const now = this.now();
    this.localCounts.set(key, withEvent(this.localCounts.get(key), now));
    return now;
  }
}
