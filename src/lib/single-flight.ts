// Single-flight: concurrent callers asking for the same key share one running task, so a hundred
// cargo clients asking for the same missing index file or crate cause one upstream fetch.

export class SingleFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, task: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing !== undefined) return existing;
    const started = task().finally(() => this.running.delete(key));
    this.running.set(key, started);
    return started;
  }

  /** Tasks still running (for shutdown). */
  pending(): Promise<unknown>[] {
    return [...this.running.values()];
  }
}
