// A fixed-window rate limiter per key (a user, a client address), in memory. Each process counts
// for itself; with N processes behind a balancer the effective limit is up to N times higher.

import { rateLimited } from '../domain/errors.js';
import { LruCache } from './lru-cache.js';

const WINDOW_MS = 60_000;

interface Window {
  startedAt: number;
  count: number;
}

export class RateLimiter {
  private readonly windows = new LruCache<string, Window>(100_000);

  constructor(
    private readonly perMinute: number,
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {}

  private current(key: string): Window {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= WINDOW_MS) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    return window;
  }

  /** Throws `rate-limited` (with Retry-After) when `key` has used up its window. */
  assertNotExceeded(key: string): void {
    const window = this.current(key);
    if (window.count >= this.perMinute) {
      const retryAfterSeconds = Math.max(1, Math.ceil((window.startedAt + WINDOW_MS - this.now()) / 1000));
      throw rateLimited('rate-limited', `too many ${this.what}; try again in ${retryAfterSeconds} s`, retryAfterSeconds);
    }
  }

  /** Counts one event for `key`, then throws like assertNotExceeded when over the limit. */
  take(key: string): void {
    this.assertNotExceeded(key);
    this.current(key).count++;
  }

  /** Counts one event without throwing. */
  record(key: string): void {
    this.current(key).count++;
  }
}
