// Crate name rules (as crates.io applies them) and the sparse-index path of a name.

import { invalid } from './errors.js';

export const MAX_CRATE_NAME_LENGTH = 64;

// Names crates.io refuses: the standard library's crates, names of Rust's own tools, and file
// names that Windows reserves (a crate with such a name cannot be unpacked there).
const RESERVED_NAMES = new Set([
  'alloc',
  'arena',
  'ast',
  'builtins',
  'collections',
  'compiler_builtins',
  'compiler_rt',
  'compiletest',
  'core',
  'coretest',
  'debug',
  'driver',
  'flate',
  'fmt_macros',
  'grammar',
  'graphviz',
  'macro',
  'macros',
  'proc_macro',
  'rbml',
  'rust_installer',
  'rustbook',
  'rustc',
  'rustc_back',
  'rustc_borrowck',
  'rustc_driver',
  'rustc_llvm',
  'rustc_resolve',
  'rustc_trans',
  'rustc_typeck',
  'rustdoc',
  'rustllvm',
  'rustuv',
  'serialize',
  'std',
  'std_unicode',
  'syntax',
  'test',
  'unicode',
  'nul',
  'con',
  'prn',
  'aux',
  'com1',
  'com2',
  'com3',
  'com4',
  'com5',
  'com6',
  'com7',
  'com8',
  'com9',
  'lpt1',
  'lpt2',
  'lpt3',
  'lpt4',
  'lpt5',
  'lpt6',
  'lpt7',
  'lpt8',
  'lpt9',
]);

/** The form under which two names count as the same crate: lower case, `-` and `_` alike. */
export function normalizeCrateName(name: string): string {
  return name.toLowerCase().replaceAll('-', '_');
}

/** Validates a crate name for publishing; returns it unchanged or throws `invalid-crate-name`. */
export function parseCrateName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalid('invalid-crate-name', 'the crate name is missing or empty');
  }
  if (name.length > MAX_CRATE_NAME_LENGTH) {
    throw invalid(
      'invalid-crate-name',
      `the crate name \`${name.slice(0, 80)}\` is too long (${name.length} characters, at most ${MAX_CRATE_NAME_LENGTH})`,
    );
  }
  if (!/^[A-Za-z]/.test(name)) {
    throw invalid('invalid-crate-name', `the crate name \`${name}\` must start with an ASCII letter`);
  }
  const bad = /[^A-Za-z0-9_-]/.exec(name);
  if (bad) {
    throw invalid(
      'invalid-crate-name',
      `the crate name \`${name}\` contains \`${bad[0]}\`; only ASCII letters, digits, \`-\` and \`_\` are allowed`,
    );
  }
  if (RESERVED_NAMES.has(normalizeCrateName(name))) {
    throw invalid('reserved-crate-name', `the crate name \`${name}\` is reserved`);
  }
  return name;
}

/** Whether `name` could be a crate name at all (used for index lookups, where we answer 404). */
export function isPlausibleCrateName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_CRATE_NAME_LENGTH && /^[A-Za-z][A-Za-z0-9_-]*$/.test(name);
}

/** The relative path of a crate's file in the sparse index: lower case, split by length. */
export function indexPathOf(name: string): string {
  const lower = name.toLowerCase();
  switch (lower.length) {
    case 1:
      return `1/${lower}`;
    case 2:
      return `2/${lower}`;
    case 3:
      return `3/${lower[0]}/${lower}`;
    default:
      return `${lower.slice(0, 2)}/${lower.slice(2, 4)}/${lower}`;
  }
}

/**
 * The inverse of indexPathOf: the lower-case crate name a sparse-index path names, or undefined
 * when the path is not a well-formed index path (so a request for `ab/cd/xyz` is not found, not
 * silently answered with crate `xyz`).
 *
 * Every index read asks this (fast-lane.ts), so it reads the path once, character by character,
 * and builds no string but the name: regular expressions, a lower-casing and the path written
 * again to compare cost about 2,000 instructions more a read (bench/README.md, sixteenth session).
 * The fuzz tests hold it to indexPathOf.
 */
export function crateNameFromIndexPath(path: string): string | undefined {
  const length = nameLengthInIndexPath(path.length);
  if (length === undefined) return undefined;
  const start = path.length - length;
  if (!isLowerCaseLetter(path.charCodeAt(start))) return undefined;
  for (let i = start + 1; i < path.length; i++) if (!isLaterNameCharacter(path.charCodeAt(i))) return undefined;
  // The directories before the name, as indexPathOf writes them.
  const name = (i: number) => path.charCodeAt(start + i);
  const at = (i: number) => path.charCodeAt(i);
  let directoriesMatch: boolean;
  if (length === 1) directoriesMatch = at(0) === DIGIT_1 && at(1) === SLASH;
  else if (length === 2) directoriesMatch = at(0) === DIGIT_2 && at(1) === SLASH;
  else if (length === 3) directoriesMatch = at(0) === DIGIT_3 && at(1) === SLASH && at(2) === name(0) && at(3) === SLASH;
  else
    directoriesMatch =
      at(0) === name(0) && at(1) === name(1) && at(2) === SLASH && at(3) === name(2) && at(4) === name(3) && at(5) === SLASH;
  return directoriesMatch ? path.slice(start) : undefined;
}

const SLASH = 0x2f;
const DIGIT_1 = 0x31;
const DIGIT_2 = 0x32;
const DIGIT_3 = 0x33;

/**
 * The length of the name that ends an index path of this length: `1/a`, `2/ab`, `3/a/abc`, and
 * six characters (`ab/cd/`) before a name of four or more.
 */
function nameLengthInIndexPath(pathLength: number): number | undefined {
  if (pathLength === 3) return 1;
  if (pathLength === 4) return 2;
  if (pathLength === 7) return 3;
  if (pathLength >= 6 + 4 && pathLength <= 6 + MAX_CRATE_NAME_LENGTH) return pathLength - 6;
  return undefined;
}

const isLowerCaseLetter = (c: number) => c >= 0x61 && c <= 0x7a;
/** After the first letter: lower-case letters, digits, `-` and `_`. */
const isLaterNameCharacter = (c: number) => isLowerCaseLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
