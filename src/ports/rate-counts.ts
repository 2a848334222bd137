// Shared per-minute event counters that let rate limits hold across processes and replicas: what
// services/shared-rate-limiter.ts needs from storage, implemented by
// adapters/metadata/sql-rate-counts.ts.

/** A key's counts in the minute asked about and the one before. */
export interface KeyCounts {
  previous: number;
  current: number;
}

/** Shared per-minute counters (adapters/metadata/sql-rate-counts.ts). */
export interface RateCounts {
  /** Adds each key's events to its count in `window`, atomically per key. */
  add(limiter: string, window: number, events: ReadonlyMap<string, number>): Promise<void>;
  /** Keys with at least `min` events in `window` and the window before together, with both counts. */
  busyKeys(limiter: string, window: number, min: number): Promise<Map<string, KeyCounts>>;
  /** Drops the windows before `window`. */
  prune(window: number): Promise<void>;
}
