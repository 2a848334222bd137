// Sliding-window counting for rate limits, as pure functions over two counts per key: the events of
// the current minute and of the minute before. The number of events "in the last 60 s" is estimated
// as the previous minute's count, weighted by how much of it the sliding window still covers, plus
// the current minute's count (the method Cloudflare and nginx-style limiters use). Unlike a fixed
// window it has no edge: a key that used its limit at the end of one minute gets nothing back at the
// start of the next, only as the window slides on (about one event every 60/limit seconds). Two
// numbers a key, so it stays cheap in memory and maps onto per-minute rows in the database
// (adapters/metadata/sql-rate-counts.ts).

export const WINDOW_MS = 60_000;

/** Rounding slack for the weighted estimate (floating point). */
const EPSILON = 1e-9;

export interface WindowCounts {
  /** The minute (milliseconds since the epoch / WINDOW_MS) that `current` counts. */
  window: number;
  previous: number;
  current: number;
}

export const windowOf = (nowMs: number): number => Math.floor(nowMs / WINDOW_MS);

/** The counts as seen from `window` (a later minute moves `current` to `previous`, or clears both). */
export function advance(counts: WindowCounts, window: number): WindowCounts {
  if (counts.window === window) return counts;
  if (counts.window === window - 1) return { window, previous: counts.current, current: 0 };
  if (counts.window > window) return counts; // a clock that went back: keep what is known
  return { window, previous: 0, current: 0 };
}

/**
 * How long, in ms, until one more event fits under `limit` (0: it fits now), assuming no other
 * events meanwhile. An event fits when the estimate plus that event is at most `limit`.
 */
export function msUntilAllowed(counts: WindowCounts, nowMs: number, limit: number): number {
  const window = windowOf(nowMs);
  const { previous, current } = advance(counts, window);
  const elapsed = (nowMs - window * WINDOW_MS) / WINDOW_MS; // fraction of this minute gone, [0, 1)
  const room = limit - 1; // the largest estimate that still lets one more event in
  if (previous * (1 - elapsed) + current <= room + EPSILON) return 0;
  if (current <= room) {
    // This minute: wait until the previous minute's weight has shrunk enough.
    const at = 1 - (room - current) / previous;
    return Math.max(1, Math.ceil((at - elapsed) * WINDOW_MS));
  }
  // This minute alone is over: wait for the next one, then for this minute's weight to shrink.
  const at = 1 - room / current;
  return Math.max(1, Math.ceil((1 - elapsed + at) * WINDOW_MS));
}

/** `counts` with one more event at `nowMs` (a new object; the input is not changed). */
export function withEvent(counts: WindowCounts | undefined, nowMs: number): WindowCounts {
  const window = windowOf(nowMs);
  const base = counts ? advance(counts, window) : { window, previous: 0, current: 0 };
  return { window: base.window, previous: base.previous, current: base.current + 1 };
}
