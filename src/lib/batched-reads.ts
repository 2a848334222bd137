// Reads by key, gathered into batches while the store is busy: at most `maxInFlight` batches run at
// once, and the keys asked for meanwhile wait to go together in the next batch (up to `maxBatch` of
// them). A store that keeps up sees each key alone and at once; one under load sees fewer, larger
// reads instead of a queue of single ones, so the wait is shorter for everyone.

interface Waiter<V> {
  resolve(value: V | undefined): void;
  reject(error: unknown): void;
}

export class BatchedReads<V> {
  /** The keys waiting for a batch, in arrival order, each with every caller that asked for it. */
  private readonly waiting = new Map<string, Waiter<V>[]>();
  private inFlight = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    /** Reads the keys; a key missing from the answer is answered `undefined`. */
    private readonly readMany: (keys: string[]) => Promise<Map<string, V>>,
    private readonly maxInFlight: number,
    private readonly maxBatch: number,
  ) {}

  read(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else this.waiting.set(key, [{ resolve, reject }]);
      this.startBatches();
    });
  }

  /** Resolves once no read is waiting or under way (for closing the store after it). */
  drained(): Promise<void> {
    if (this.inFlight === 0 && this.waiting.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private startBatches(): void {
    while (this.inFlight < this.maxInFlight && this.waiting.size > 0) {
      const batch = new Map<string, Waiter<V>[]>();
      for (const [key, waiters] of this.waiting) {
        batch.set(key, waiters);
        this.waiting.delete(key);
        if (batch.size === this.maxBatch) break;
      }
      this.inFlight++;
      // `run` answers every caller itself, and never rejects.
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.startBatches();
        if (this.inFlight === 0 && this.waiting.size === 0) this.idle.splice(0).forEach((resolve) => resolve());
      });
    }
  }

  private async run(batch: Map<string, Waiter<V>[]>): Promise<void> {
    try {
      const found = await this.readMany([...batch.keys()]);
      for (const [key, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(key));
    } catch (error) {
      for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
    }
  }
}
