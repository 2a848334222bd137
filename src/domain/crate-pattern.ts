// Crate patterns, as tokens and access rules use them: an exact crate name, or a prefix ending in
// `*` (`foo-*`), or `*` alone for every crate. Matching compares names the way crate names
// compare (case and `-`/`_` do not matter).

import { normalizeCrateName } from './crate-name.js';
import { invalid } from './errors.js';

export interface CratePattern {
  readonly text: string;
  readonly prefix: string; // normalized
  readonly exact: boolean;
}

export function parseCratePattern(text: string): CratePattern {
  const star = text.indexOf('*');
  if (text.length === 0 || text.length > 65 || (star !== -1 && star !== text.length - 1) || !/^[A-Za-z0-9_*-]+$/.test(text)) {
    throw invalid(
      'invalid-crate-pattern',
      `\`${text.slice(0, 80)}\` is not a crate pattern: use a crate name, or a prefix ending in \`*\` such as \`foo-*\``,
    );
  }
  const exact = star === -1;
  return { text, prefix: normalizeCrateName(exact ? text : text.slice(0, -1)), exact };
}

export function tryParseCratePattern(text: string): CratePattern | undefined {
  try {
    return parseCratePattern(text);
  } catch {
    return undefined;
  }
}

export function matchesCratePattern(pattern: CratePattern, crateName: string): boolean {
  const name = normalizeCrateName(crateName);
  return pattern.exact ? name === pattern.prefix : name.startsWith(pattern.prefix);
}

export function matchesAnyCratePattern(patterns: readonly CratePattern[], crateName: string): boolean {
  return patterns.some((p) => matchesCratePattern(p, crateName));
}
