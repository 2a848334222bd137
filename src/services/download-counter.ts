// Counts successful crate downloads without touching the database on the request path: counts
// gather in memory per crate, version and UTC day, and are added to the store in one batch a few
// seconds after the first uncounted download, and on close. A failed batch is reported (never
// thrown into a request) and its counts are kept for the next one: the store adds a batch all or
// nothing, so a retry neither loses nor double counts (save a commit whose reply was lost).

import type { DownloadCounts, VersionDayCount } from '../ports/download-counts.js';

const DAY_MS = 86_400_000;

export interface DownloadCounterOptions {
  /** How long counts may wait in memory before they are written. */
  flushAfterMs?: number;
  now?: () => number;
}

export class DownloadCounter {
  private pending = new Map<string, VersionDayCount>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  private day = '';
  private dayEnds = -Infinity;
  private readonly flushAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly counts: DownloadCounts,
    private readonly onError: (error: unknown) => void,
    options: DownloadCounterOptions = {},
  ) {
    this.flushAfterMs = options.flushAfterMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** The hot path: a map lookup and an increment. `lowerName` is the lower-case crate name. */
  count(lowerName: string, version: string): void {
    const day = this.today();
    const key = `${lowerName} ${version} ${day}`;
    const counted = this.pending.get(key);
    if (counted) counted.count++;
    else this.pending.set(key, { crate: lowerName, version, day, count: 1 });
    this.schedule();
  }

  /** Downloads counted and not yet written. */
  get pendingDownloads(): number {
    let n = 0;
    for (const c of this.pending.values()) n += c.count;
    return n;
  }

  /**
   * Writes every count gathered so far (after any write in progress). Rejects if the store did;
   * the counts are then kept, and written by the next flush.
   */
  flush(): Promise<void> {
    const write = this.writing.then(() => this.write());
    this.writing = write.catch(() => {});
    return write;
  }

  /** Stops the timer and writes what is left; a failure is reported, not thrown. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush().catch(this.onError);
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.counts.add([...batch.values()].map((c) => ({ ...c })));
    } catch (error) {
      // Put the batch back, merged with what was counted meanwhile, for the next flush.
      for (const [key, c] of batch) {
        const counted = this.pending.get(key);
        if (counted) counted.count += c.count;
        else this.pending.set(key, c);
      }
      this.schedule();
      throw error;
    }
  }

  private schedule(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(this.onError);
    }, this.flushAfterMs);
    this.timer.unref();
  }

  private today(): string {
    const now = this.now();
    if (now >= this.dayEnds || now < this.dayEnds - DAY_MS) {
      const start = Math.floor(now / DAY_MS) * DAY_MS;
      this.day = new Date(start).toISOString().slice(0, 10);
      this.dayEnds = start + DAY_MS;
    }
    return this.day;
  }
}
