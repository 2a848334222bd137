// Follows the store's change feed and tells subscribers what changed, so that caches in this
// process drop what a write elsewhere (another process, the CLI, another replica) made stale.
// Writes made in this process invalidate their caches directly as well; the feed is the safety net
// that makes the same true across processes within one poll interval.

import type { Change, ChangeLog } from '../ports/change-log.js';

export type ChangeListener = (change: Change) => void;

export class ChangeFeed {
  private lastSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private readonly listeners: ChangeListener[] = [];

  constructor(
    private readonly log: ChangeLog,
    private readonly onError: (error: unknown) => void,
  ) {}

  subscribe(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Starts following from the current end of the feed. */
  async start(intervalMs: number): Promise<void> {
    this.lastSeq = await this.log.latestChangeSeq();
    this.timer = setInterval(() => void this.poll(), intervalMs);
    this.timer.unref();
  }

  /**
   * Reads and dispatches new changes; resolves after a read that started after this call, so a
   * caller that just wrote sees its own change applied. Calls made during a read share one more.
   */
  poll(): Promise<void> {
    // Not following (a CLI command): there are no caches to keep, and no position to read from.
    if (!this.timer) return Promise.resolve();
    if (!this.polling) {
      this.polling = this.readChanges().finally(() => {
        this.polling = undefined;
      });
      return this.polling;
    }
    // The read under way may have started before the caller's write: one more read after it.
    this.queued ??= this.polling.then(() => {
      this.queued = undefined;
      return this.poll();
    });
    return this.queued;
  }

  private async readChanges(): Promise<void> {
    try {
      for (;;) {
        const changes = await this.log.changesSince(this.lastSeq);
        for (const change of changes) {
          for (const listener of this.listeners) listener(change);
          this.lastSeq = change.seq;
        }
        if (changes.length < 10_000) return;
      }
    } catch (error) {
      this.onError(error);
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.queued;
    await this.polling;
  }
}
