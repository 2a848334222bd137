// The "blessed" list of an upstream: `allow` and `deny` patterns, each an exact crate name or a
// prefix ending in `*`. Names compare in crates.io's normal form (case, and `-` and `_` alike), so
// `deny = ["foo_bar"]` also denies `Foo-Bar`. A name is served when some allow pattern matches and
// no deny pattern does.

import { normalizeCrateName } from '../domain/crate-name.js';

export type CratePatterns = (name: string) => boolean;

/** A predicate that is true when any of the patterns matches the name. */
export function compileCratePatterns(patterns: string[]): CratePatterns {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(normalizeCrateName(p.slice(0, -1)));
    else exact.add(normalizeCrateName(p));
  }
  return (name) => {
    const normal = normalizeCrateName(name);
    return exact.has(normal) || prefixes.some((prefix) => normal.startsWith(prefix));
  };
}

export function blessedList(allow: string[], deny: string[]): CratePatterns {
  const allowed = compileCratePatterns(allow);
  const denied = compileCratePatterns(deny);
  return (name) => allowed(name) && !denied(name);
}
