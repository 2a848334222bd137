// While a dependency is down, every background loop (change feed, shared rate limits, audit flush,
// download counts, token last-use) fails on each round, several times a second: one log line per
// failure would bury everything else. This reporter passes errors through, except that repeats of
// one dependency being unavailable (same error code) are logged once, then at most once per
// interval with the number left out in between.

import { RegistryError } from '../domain/errors.js';

export type BackgroundErrorReport = (error: unknown, context: { repeatsLeftOut: number }) => void;

export function throttleUnavailable(
  report: BackgroundErrorReport,
  intervalMs = 60_000,
  now: () => number = Date.now,
): (error: unknown) => void {
  const last = new Map<string, { at: number; leftOut: number }>();
  return (error) => {
    if (!(error instanceof RegistryError) || error.kind !== 'unavailable') {
      report(error, { repeatsLeftOut: 0 });
      return;
    }
    const seen = last.get(error.code);
    const time = now();
    if (seen && time - seen.at < intervalMs) {
      seen.leftOut++;
      return;
    }
    last.set(error.code, { at: time, leftOut: 0 });
    report(error, { repeatsLeftOut: seen?.leftOut ?? 0 });
  };
}
