// Cargo's version requirements (`1.2`, `^0.2.3`, `~1`, `>= 1.2, < 2`, `1.*`), matched as cargo
// matches them (the `semver` crate it uses), not as npm does: a bare `1.2` means `^1.2`, `0.x`
// carets are narrower, and a pre-release matches only a comparator that names a pre-release of
// the same major.minor.patch. Advisories (`patched`, `unaffected`) are written in this syntax.

import { invalid } from './errors.js';
import { compareVersions, tryParseVersion, type Version } from './version.js';

type Op = '=' | '>' | '>=' | '<' | '<=' | '~' | '^' | '*';

interface Comparator {
  op: Op;
  major: bigint;
  minor: bigint | undefined;
  patch: bigint | undefined;
  pre: readonly string[];
}

export interface VersionRequirement {
  readonly raw: string;
  /** All must match (comma-separated AND). Empty for `*`. */
  readonly comparators: readonly Comparator[];
}

const OPS: readonly Op[] = ['>=', '<=', '=', '>', '<', '~', '^'];
const NUMBER = /^(0|[1-9]\d*)$/;
const WILDCARD = /^[*xX]$/;

/** Parses a requirement; throws `invalid-version-requirement` naming what is wrong. */
export function parseVersionRequirement(raw: string): VersionRequirement {
  const text = raw.trim();
  if (text.length === 0) throw bad(raw, 'it is empty');
  if (raw.length > 1000) throw bad(raw.slice(0, 80), 'it is too long');
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length === 1 && WILDCARD.test(parts[0]!)) return { raw, comparators: [] };
  return { raw, comparators: parts.map((part) => parseComparator(raw, part)) };
}

export function tryParseVersionRequirement(raw: string): VersionRequirement | undefined {
  try {
    return parseVersionRequirement(raw);
  } catch {
    return undefined;
  }
}

function parseComparator(raw: string, part: string): Comparator {
  if (part.length === 0) throw bad(raw, 'it has an empty part between commas');
  const op = OPS.find((o) => part.startsWith(o));
  const rest = (op ? part.slice(op.length) : part).trim();
  const dash = rest.search(/[-+]/);
  const core = dash === -1 ? rest : rest.slice(0, dash);
  const suffix = dash === -1 ? '' : rest.slice(dash);
  const fields = core.split('.');
  if (fields.length > 3 || fields.some((f) => f.length === 0)) throw bad(raw, `\`${part}\` is not a version`);
  const numbers: (bigint | undefined)[] = [];
  let wildcard = false;
  for (const field of fields) {
    if (WILDCARD.test(field)) {
      wildcard = true;
      numbers.push(undefined);
    } else if (NUMBER.test(field) && !wildcard) {
      numbers.push(BigInt(field));
    } else {
      throw bad(raw, `\`${part}\` is not a version`);
    }
  }
  if (numbers[0] === undefined) throw bad(raw, `\`${part}\`: a wildcard must follow a major version, or stand alone as \`*\``);
  let pre: string[] = [];
  if (suffix !== '') {
    // A pre-release or build needs the full major.minor.patch, as in `1.2.3-alpha.1`.
    const full = tryParseVersion(`${core}${suffix}`);
    if (!full || fields.length !== 3 || wildcard) throw bad(raw, `\`${part}\` is not a version`);
    pre = [...full.pre];
  }
  return {
    op: op ?? (wildcard ? '*' : '^'),
    major: numbers[0],
    minor: numbers[1],
    patch: numbers[2],
    pre,
  };
}

function bad(raw: string, why: string) {
  return invalid('invalid-version-requirement', `\`${raw}\` is not a cargo version requirement: ${why}`);
}

/** Whether `version` satisfies the requirement, with cargo's pre-release rule. */
export function matchesRequirement(requirement: VersionRequirement, version: Version): boolean {
  if (!requirement.comparators.every((c) => matchesComparator(c, version))) return false;
  if (version.pre.length === 0) return true;
  // A pre-release matches only when some comparator names a pre-release of the same x.y.z.
  return requirement.comparators.some(
    (c) => c.major === version.major && c.minor === version.minor && c.patch === version.patch && c.pre.length > 0,
  );
}

function matchesComparator(c: Comparator, v: Version): boolean {
  switch (c.op) {
    case '=':
    case '*':
      return exact(c, v);
    case '>':
      return greater(c, v);
    case '>=':
      return exact(c, v) || greater(c, v);
    case '<':
      return less(c, v);
    case '<=':
      return exact(c, v) || less(c, v);
    case '~':
      return tilde(c, v);
    case '^':
      return caret(c, v);
  }
}

function comparePre(a: readonly string[], b: readonly string[]): number {
  // The ordering of pre-releases of one x.y.z; an empty one (a release) ranks above any.
  const version = (pre: readonly string[]) => tryParseVersion(pre.length === 0 ? '0.0.0' : `0.0.0-${pre.join('.')}`)!;
  return compareVersions(version(a), version(b));
}

function exact(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return false;
  if (c.minor !== undefined && v.minor !== c.minor) return false;
  if (c.patch !== undefined && v.patch !== c.patch) return false;
  return comparePre(v.pre, c.pre) === 0;
}

function greater(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return v.major > c.major;
  if (c.minor === undefined) return false;
  if (v.minor !== c.minor) return v.minor > c.minor;
  if (c.patch === undefined) return false;
  if (v.patch !== c.patch) return v.patch > c.patch;
  return comparePre(v.pre, c.pre) > 0;
}

function less(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return v.major < c.major;
  if (c.minor === undefined) return false;
  if (v.minor !== c.minor) return v.minor < c.minor;
  if (c.patch === undefined) return false;
  if (v.patch !== c.patch) return v.patch < c.patch;
  return comparePre(v.pre, c.pre) < 0;
}

function tilde(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return false;
  if (c.minor !== undefined && v.minor !== c.minor) return false;
  if (c.patch !== undefined && v.patch !== c.patch) return v.patch > c.patch;
  return comparePre(v.pre, c.pre) >= 0;
}

function caret(c: Comparator, v: Version): boolean {
  if (v.major !== c.major) return false;
  if (c.minor === undefined) return true;
  if (c.patch === undefined) return c.major > 0n ? v.minor >= c.minor : v.minor === c.minor;
  if (c.major > 0n) {
    if (v.minor !== c.minor) return v.minor > c.minor;
    if (v.patch !== c.patch) return v.patch > c.patch;
  } else if (c.minor > 0n) {
    if (v.minor !== c.minor) return false;
    if (v.patch !== c.patch) return v.patch > c.patch;
  } else if (v.minor !== c.minor || v.patch !== c.patch) {
    return false;
  }
  return comparePre(v.pre, c.pre) >= 0;
}
