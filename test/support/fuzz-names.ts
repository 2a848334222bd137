// Crate names and versions for the fuzz campaign, drawn mostly from the edges of the rules, with
// oracles written independently of src/domain (a split-and-check parser, not the same regex), so
// that a rule broken in the registry shows up as a disagreement.

import fc from 'fast-check';

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const NAME_CHARS = `${LETTERS}0123456789-_`;

/** Names the registry must refuse as reserved (a few of crates.io's list, in odd spellings too). */
export const SOME_RESERVED_NAMES = [
  'std',
  'core',
  'alloc',
  'proc_macro',
  'proc-macro',
  'test',
  'nul',
  'con',
  'Con',
  'COM1',
  'lpt9',
  'rustc',
];

/** Whether a name passes crates.io's character and length rules (reserved names aside). */
export function nameFollowsRules(name: string): boolean {
  if (name.length < 1 || name.length > 64) return false;
  if (!LETTERS.includes(name[0]!)) return false;
  for (const ch of name) if (!NAME_CHARS.includes(ch)) return false;
  return true;
}

export function isReservedName(name: string): boolean {
  const normal = name.toLowerCase().replaceAll('-', '_');
  return SOME_RESERVED_NAMES.some((r) => r.toLowerCase().replaceAll('-', '_') === normal);
}

function isNumeric(part: string): boolean {
  if (part === '') return false;
  for (const ch of part) if (ch < '0' || ch > '9') return false;
  return true;
}

function isIdentifier(part: string): boolean {
  if (part === '') return false;
  for (const ch of part) if (!(NAME_CHARS.includes(ch) && ch !== '_')) return false;
  return true;
}

/** SemVer 2.0 as semver.org states it, checked piece by piece. */
export function isSemver(text: string): boolean {
  let rest = text;
  let build: string | undefined;
  const plus = rest.indexOf('+');
  if (plus !== -1) {
    build = rest.slice(plus + 1);
    rest = rest.slice(0, plus);
  }
  let pre: string | undefined;
  const dash = rest.indexOf('-');
  if (dash !== -1) {
    pre = rest.slice(dash + 1);
    rest = rest.slice(0, dash);
  }
  const core = rest.split('.');
  if (core.length !== 3) return false;
  for (const part of core) if (!isNumeric(part) || (part.length > 1 && part[0] === '0')) return false;
  if (pre !== undefined) {
    for (const part of pre.split('.')) {
      if (!isIdentifier(part)) return false;
      if (isNumeric(part) && part.length > 1 && part[0] === '0') return false;
    }
  }
  if (build !== undefined) for (const part of build.split('.')) if (!isIdentifier(part)) return false;
  return true;
}

const nameChar = fc.constantFrom(...NAME_CHARS);

/** A name that follows the rules (it may still be reserved or taken). */
export const validNameArb = fc
  .tuple(fc.constantFrom(...LETTERS), fc.array(nameChar, { maxLength: 63 }))
  .map(([first, rest]) => first + rest.join(''));

/** Names around the rules: valid ones, reserved ones, and each rule broken once. */
export const edgeNameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: validNameArb },
  { weight: 2, arbitrary: fc.constantFrom(...SOME_RESERVED_NAMES) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      '9lives',
      '_lead',
      '-lead',
      'has.dot',
      'has space',
      'tab\there',
      'café',
      'ﬁle',
      'a/b',
      'a\\b',
      '..',
      'nul\u0000',
      'emoji😀',
      'a'.repeat(64),
      'b'.repeat(65),
      'x'.repeat(1000),
      'Ａbc',
      'İstanbul',
      'K',
      '\u212Aelvin',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 70 }) },
);

const numericPart = fc.oneof(
  { weight: 8, arbitrary: fc.nat({ max: 20 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('9007199254740993', '18446744073709551615', '18446744073709551616', '9'.repeat(60)) },
  { weight: 1, arbitrary: fc.constantFrom('00', '01', '007', '') },
);
const identifier = fc.oneof(
  fc.constantFrom('alpha', 'beta', 'rc', '0', '1', '01', 'x-y', '-', '--', 'a_b', 'é', ''),
  fc.stringMatching(/^[0-9A-Za-z-]{1,8}$/),
);
const dotted = fc.array(identifier, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));

/** `arb` in one case out of four, else null. */
const rarely = <T>(arb: fc.Arbitrary<T>) => fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

/** Versions: well-formed SemVer in most cases, otherwise each way cargo would refuse one. */
export const edgeVersionArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(numericPart, numericPart, numericPart, rarely(dotted), rarely(dotted))
      .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre === null ? '' : `-${pre}`}${build === null ? '' : `+${build}`}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '1.0',
      '1',
      'v1.0.0',
      '1.0.0-',
      '1.0.0+',
      ' 1.0.0',
      '1.0.0 ',
      '1.0.0\n',
      '1.0.0.0',
      '1..0',
      '-1.0.0',
      '1.0.0-a..b',
      `1.0.0-${'a'.repeat(300)}`,
      `1.0.0+${'b'.repeat(250)}`,
      '１.０.０',
      '1.0.0-α',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
