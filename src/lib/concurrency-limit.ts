// Bounds how many operations of one kind run at once, in all and per key (a user), with a short,
// bounded wait for a free slot. Publishes use it so that memory stays a small multiple of
// `publish.max_size` however many uploads arrive together, and so that one token holder cannot
// take every slot. A refusal is `unavailable` with Retry-After: cargo and people may try again.

import { RegistryError } from '../domain/errors.js';

export interface ConcurrencyLimitOptions {
  /** Operations running at once, in all. */
  total: number;
  /** Operations running at once for one key. */
  perKey: number;
  /** Operations that may wait for a slot; more are refused at once. */
  maxWaiting: number;
  /** Operations of one key that may wait, so that one key cannot fill the queue. */
  maxWaitingPerKey: number;
  /** Longest wait for a slot. */
  maxWaitMs: number;
  /** What the operations are, for refusals ("publishes"). */
  what: string;
}

interface Waiter {
  key: string;
  grant: () => void;
}

const RETRY_AFTER_SECONDS = 5;

export class ConcurrencyLimit {
  private running = 0;
  private readonly runningByKey = new Map<string, number>();
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: ConcurrencyLimitOptions) {}

  private busy(why: string): RegistryError {
    return new RegistryError('unavailable', 'server-busy', `${why}; try again in ${RETRY_AFTER_SECONDS} s`, {
      retryAfterSeconds: RETRY_AFTER_SECONDS,
    });
  }

  private mayStart(key: string): boolean {
    return this.running < this.options.total && (this.runningByKey.get(key) ?? 0) < this.options.perKey;
  }

  private start(key: string): () => void {
    this.running++;
    this.runningByKey.set(key, (this.runningByKey.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const left = this.runningByKey.get(key)! - 1;
      if (left === 0) this.runningByKey.delete(key);
      else this.runningByKey.set(key, left);
      this.wakeNext();
    };
  }

  private wakeNext(): void {
    const index = this.waiting.findIndex((w) => this.mayStart(w.key));
    if (index !== -1) this.waiting.splice(index, 1)[0]!.grant();
  }

  /** Waits for a slot; returns its release function (safe to call more than once). */
  acquire(key: string): Promise<() => void> {
    if (this.mayStart(key)) return Promise.resolve(this.start(key));
    if (this.waitingFor(key) >= this.options.maxWaitingPerKey) {
      return Promise.reject(this.busy(`you have ${this.options.maxWaitingPerKey} ${this.options.what} waiting already`));
    }
    if (this.waiting.length >= this.options.maxWaiting) {
      return Promise.reject(this.busy(`the server has too many ${this.options.what} in progress`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        key,
        grant: () => {
          clearTimeout(timer);
          resolve(this.start(key));
        },
      };
      const timer = setTimeout(() => {
        const index = this.waiting.indexOf(waiter);
        if (index !== -1) this.waiting.splice(index, 1);
        reject(this.busy(`the server has too many ${this.options.what} in progress`));
      }, this.options.maxWaitMs);
      timer.unref(); // a waiting request keeps its socket open; the wait alone keeps nothing alive
      this.waiting.push(waiter);
    });
  }

  private waitingFor(key: string): number {
    return this.waiting.filter((w) => w.key === key).length;
  }

  /** Operations running now (read by tests and /metrics). */
  get active(): number {
    return this.running;
  }
}
