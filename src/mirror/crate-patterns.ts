// The "blessed" list of an upstream: `allow` and `deny` patterns, each an exact crate name or a
// prefix ending in `*`. Names compare in crates.io's normal form (case, and `-` and `_` alike), so
// `deny = ["foo_bar"]` also denies `Foo-Bar`. A name is served when some allow pattern matches and
// no deny pattern does.

import { matchesAnyCratePattern, parseCratePattern } from '../domain/crate-pattern.js';

export type CratePatterns = (name: string) => boolean;

/** A predicate that is true when any of the patterns matches the name. */
export function compileCratePatterns(patterns: string[]): CratePatterns {
  const parsed = patterns.map(parseCratePattern);
  return (name) => matchesAnyCratePattern(parsed, name);
}

export function blessedList(allow: string[], deny: string[]): CratePatterns {
  const allowed = compileCratePatterns(allow);
  const denied = compileCratePatterns(deny);
  return (name) => allowed(name) && !denied(name);
}
