// Rate limits that hold across processes and replicas sharing one database. Each limiter keeps the
// in-memory limiter's exact per-process behaviour (lib/rate-limiter.ts) and adds shared counts, over the
// same sliding window (lib/sliding-window.ts): per-minute rows in the database, of which the current and
// the previous minute are read. The synchronous checks stay memory-only, so a request never waits
// for the database here. Counted events are collected in memory and written in one batch per poll
// interval (one upsert per key, whatever the number of events); a key already over its limit adds
// no more writes, so a flood stays in memory. Every poll interval each process also reads which
// keys are at their limit anywhere, with both minutes' counts; to those it adds its own events not
// written yet, so it can refuse such keys and compute their Retry-After as the counts slide. A key
// over the limit on one replica is refused by every other within about two poll intervals; until
// then a replica can let a few more through.

import { RateLimiter } from '../lib/rate-limiter.js';
import { msUntilAllowed, windowOf, type WindowCounts } from '../lib/sliding-window.js';
import type { RateCounts } from '../ports/rate-counts.js';

/** Keys a process collects per minute before the next write; beyond, events count only locally. */
const MAX_PENDING_KEYS = 10_000;

export class SharedRateLimiter extends RateLimiter {
  /** Keys at their limit somewhere, with the counts last read from the database. */
  private shared = new Map<string, WindowCounts>();
  /** Events counted here but not yet written: minute → key → events. */
  private pending = new Map<number, Map<string, number>>();

  constructor(
    private readonly name: string,
    limit: number,
    description: string,
    private readonly counts: RateCounts,
    private readonly onError: (error: unknown) => void,
    clock: () => number = Date.now,
  ) {
    super(limit, description, clock);
  }

  protected override msUntilAllowed(key: string, nowMs: number): number {
    const local = super.msUntilAllowed(key, nowMs);
    const shared = this.shared.get(key);
    return shared === undefined ? local : Math.max(local, msUntilAllowed(this.withPending(shared, key), nowMs, this.limit));
  }

  /** The counts last read plus this process's events not written yet (so not in them). */
  private withPending(read: WindowCounts, key: string): WindowCounts {
    const byWindow = new Map([
      [read.window - 1, read.previous],
      [read.window, read.current],
    ]);
    for (const [window, events] of this.pending) {
      const n = events.get(key);
      if (n !== undefined) byWindow.set(window, (byWindow.get(window) ?? 0) + n);
    }
    const latest = Math.max(...byWindow.keys());
    return { window: latest, previous: byWindow.get(latest - 1) ?? 0, current: byWindow.get(latest) ?? 0 };
  }

  override take(key: string): void {
    super.take(key);
    this.queue(key);
  }

  override record(key: string): number {
    // A key already refused needs no more shared writes: its refusal is known, and a flood stays in memory.
    const alreadyOver = this.msUntilAllowed(key, this.now()) > 0;
    const countedAt = super.record(key);
    if (!alreadyOver) this.queue(key);
    return countedAt;
  }

  private queue(key: string): void {
    const window = windowOf(this.now());
    let events = this.pending.get(window);
    if (events === undefined) this.pending.set(window, (events = new Map()));
    const seen = events.get(key);
    if (seen !== undefined) events.set(key, seen + 1);
    else if (events.size < MAX_PENDING_KEYS) events.set(key, 1);
  }

  /** Writes the events collected since the last flush (one batch per minute they fell in). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batches = this.pending;
    this.pending = new Map();
    for (const [window, events] of batches) await this.counts.add(this.name, window, events);
  }

  /** Writes this process's events, then learns which keys are at their limit on any process. */
  async refresh(): Promise<void> {
    // A failed write loses those events (they still count here); the read below may still work.
    await this.flush().catch(this.onError);
    const window = windowOf(this.now());
    // A key whose two minutes hold fewer than `limit` events together has room for one more anyway.
    const busy = await this.counts.busyKeys(this.name, window, this.limit);
    const shared = new Map<string, WindowCounts>();
    for (const [key, { previous, current }] of busy) shared.set(key, { window, previous, current });
    this.shared = shared;
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
      for (const limiter of this.limiters) {
        try {
          await limiter.refresh();
        } catch (error) {
          this.onError(error);
        }
      }
      try {
        const window = windowOf(this.clock());
        if (window !== this.lastPrune) {
          this.lastPrune = window;
          // The sliding window reads the current and the previous minute; older ones are done with.
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

  /** Stops refreshing; writes what is still collected. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    for (const limiter of this.limiters) await limiter.flush().catch(this.onError);
  }
}
