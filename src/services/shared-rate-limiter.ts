// Rate limits that hold across processes and replicas sharing one database. Each limiter keeps
// the in-memory limiter's exact per-process behaviour (rate-limiter.ts) and adds shared counts:
// every counted event is also added, atomically, to a per-minute row in the database, and each
// process learns every minute which keys are over the limit anywhere, from the increments' replies
// and from a small query every poll interval. The synchronous checks stay memory-only, so a request
// with a cached good token never waits for the database; only events that are counted anyway
// (failed token checks, publishes) write. A key over the limit on one replica is refused by every
// other within one poll interval; until then a replica can let a few more through.

import { rateLimited } from '../domain/errors.js';
import { RateLimiter } from './rate-limiter.js';

const WINDOW_MS = 60_000;

/** Shared per-minute counters (adapters/metadata/sql-rate-counts.ts). */
export interface RateCounts {
  /** Adds one event and returns the window's count after it. */
  increment(limiter: string, key: string, window: number): Promise<number>;
  /** Keys whose count in `window` is at least `min`. */
  keysAtLeast(limiter: string, window: number, min: number): Promise<string[]>;
  /** Drops the windows before `window`. */
  prune(window: number): Promise<void>;
}

export class SharedRateLimiter extends RateLimiter {
  /** Keys over the limit somewhere, for the window they were over in. */
  private blocked = new Map<string, number>();

  constructor(
    private readonly name: string,
    private readonly limit: number,
    private readonly description: string,
    private readonly counts: RateCounts,
    private readonly onError: (error: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {
    super(limit, description, clock);
  }

  private window(): number {
    return Math.floor(this.clock() / WINDOW_MS);
  }

  private assertNotBlockedElsewhere(key: string): void {
    const window = this.window();
    if (this.blocked.get(key) !== window) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - this.clock()) / 1000));
    throw rateLimited('rate-limited', `too many ${this.description}; try again in ${retryAfterSeconds} s`, retryAfterSeconds);
  }

  override assertNotExceeded(key: string): void {
    super.assertNotExceeded(key);
    this.assertNotBlockedElsewhere(key);
  }

  override take(key: string): void {
    this.assertNotBlockedElsewhere(key);
    super.take(key);
    this.countShared(key);
  }

  override record(key: string): void {
    super.record(key);
    // A key already refused here needs no more shared writes this window (a flood stays in memory).
    if (this.blocked.get(key) !== this.window()) this.countShared(key);
  }

  private countShared(key: string): void {
    const window = this.window();
    this.counts.increment(this.name, key, window).then((count) => {
      if (count >= this.limit) this.blocked.set(key, window);
    }, this.onError);
  }

  /** Learns which keys are over the limit on any process; drops old windows. */
  async refresh(): Promise<void> {
    const window = this.window();
    const keys = await this.counts.keysAtLeast(this.name, window, this.limit);
    const blocked = new Map<string, number>();
    for (const [key, w] of this.blocked) if (w === window) blocked.set(key, w);
    for (const key of keys) blocked.set(key, window);
    this.blocked = blocked;
  }
}

/** Refreshes a set of shared limiters every poll interval, and prunes old windows now and then. */
export class SharedRateLimits {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastPrune = 0;

  constructor(
    private readonly limiters: readonly SharedRateLimiter[],
    private readonly counts: RateCounts,
    private readonly onError: (error: unknown) => void,
    private readonly clock: () => number = Date.now,
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.refresh(), intervalMs);
    this.timer.unref();
  }

  refresh(): Promise<void> {
    this.running ??= (async () => {
      try {
        for (const limiter of this.limiters) await limiter.refresh();
        const window = Math.floor(this.clock() / WINDOW_MS);
        if (window !== this.lastPrune) {
          this.lastPrune = window;
          await this.counts.prune(window - 1);
        }
      } catch (error) {
        this.onError(error);
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
