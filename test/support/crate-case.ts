// .crate files for the fuzz campaign: a valid crate (Cargo.toml, src/lib.rs, a few more files)
// with targeted damage: paths that leave the folder, links and device entries, the same path in
// other spellings, declared sizes that lie, pax and GNU headers, broken checksums, too many entries,
// manifests that are malformed, too deep, too large or name another package, and gzip streams that
// are truncated, corrupted, concatenated or that unpack to far more than they weigh.
// A case is plain data (fast-check prints and shrinks it); crate-case-build.ts turns it into bytes
// and says whether an honest registry must refuse it, by rules written independently of src/domain.

import fc from 'fast-check';
import type { TarNameEncoding } from './tar-writer.js';

export interface CrateLimits {
  maxUnpackedBytes: number;
  maxEntries: number;
  maxManifestBytes: number;
}

export type PathShape =
  | { shape: 'inside' | 'dotdot' | 'dotdot-backslash' | 'absolute' | 'drive' | 'outside' | 'dot-first' | 'prefix-only'; rel: string }
  | { shape: 'long'; length: number }
  | { shape: 'raw'; text: string };

export type Spelling = 'upper' | 'dot-segment' | 'double-slash' | 'backslash' | 'trailing-slash' | 'nfd';

export type ExtraEntry =
  | { kind: 'file'; path: PathShape; encoding: TarNameEncoding; body: string }
  | { kind: 'type'; typeflag: string; rel: string; linkname: string }
  | { kind: 'duplicate'; of: 'manifest' | 'lib' | 'accent'; spelling: Spelling }
  | { kind: 'declared-size'; rel: string; body: string; declared: number }
  | { kind: 'raw-size'; rel: string; size: readonly number[] }
  | { kind: 'pax'; rel: string; body: string; records: Record<string, string> }
  | { kind: 'checksum'; rel: string; delta: number };

export type ManifestCase =
  | { kind: 'valid'; fragments: number[] }
  | { kind: 'other-name'; name: string }
  | { kind: 'other-version'; version: string }
  | { kind: 'no-package' | 'package-not-table' | 'missing' | 'bom' | 'crlf' }
  | { kind: 'malformed'; at: number; junk: string }
  | { kind: 'deep'; style: 'array' | 'inline-table' | 'dotted-key' | 'table-header'; depth: number }
  | { kind: 'huge'; bytes: number };

export type TarDamage =
  | { kind: 'none' | 'no-end-blocks' }
  | { kind: 'truncate'; at: number }
  | { kind: 'garbage-after'; bytes: number[] }
  | { kind: 'flip'; at: number; xor: number };

export type GzipDamage =
  | { kind: 'none' | 'not-gzip' | 'empty-gzip' | 'two-members' }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'trailing'; bytes: number[] }
  | { kind: 'bomb'; kib: number };

export interface CrateCase {
  /** Folder name used inside the archive instead of `<name>-<version>` (null: the right one). */
  otherFolder: string | null;
  manifest: ManifestCase;
  manifestEncoding: TarNameEncoding;
  manifestLast: boolean;
  extras: readonly ExtraEntry[];
  /** Plain extra files, for the entry-count limit. */
  fillerFiles: number;
  tar: TarDamage;
  gzip: GzipDamage;
}

export interface BuiltCrate {
  bytes: Buffer;
  /** Why an honest registry must refuse this crate; undefined when it may accept it. */
  mustRefuse: string | undefined;
}

/** A valid crate with no damage: the base that the campaigns' recorded bugs are written against. */
export const SOUND_CRATE: CrateCase = {
  otherFolder: null,
  manifest: { kind: 'valid', fragments: [] },
  manifestEncoding: 'plain',
  manifestLast: false,
  extras: [],
  fillerFiles: 0,
  tar: { kind: 'none' },
  gzip: { kind: 'none' },
};

// ------------------------------------------------------------------ arbitraries

const segment = fc.stringMatching(/^[a-z0-9_.-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const relPath = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('/'));

const pathShape: fc.Arbitrary<PathShape> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ shape: fc.constant('inside' as const), rel: relPath }) },
  {
    weight: 6,
    arbitrary: fc.record({
      shape: fc.constantFrom('dotdot', 'dotdot-backslash', 'absolute', 'drive', 'outside', 'dot-first', 'prefix-only'),
      rel: relPath,
    }),
  },
  { weight: 1, arbitrary: fc.record({ shape: fc.constant('long' as const), length: fc.integer({ min: 90, max: 4000 }) }) },
  { weight: 1, arbitrary: fc.record({ shape: fc.constant('raw' as const), text: fc.string({ unit: 'binary', maxLength: 120 }) }) },
);

const encoding = fc.constantFrom<TarNameEncoding>('plain', 'prefix', 'pax', 'gnu-long');
const smallBody = fc.string({ maxLength: 40 });

const extraEntry: fc.Arbitrary<ExtraEntry> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('file' as const), path: pathShape, encoding, body: smallBody }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('type' as const),
      typeflag: fc.constantFrom('1', '2', '3', '4', '6', '5', '7', '\0', 'g', 'x', 'L', 'K', 'S', 'V', 'Z', 'D'),
      rel: relPath,
      linkname: fc.constantFrom('../../etc/passwd', '/etc/shadow', 'src/lib.rs', ''),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('duplicate' as const),
      of: fc.constantFrom('manifest', 'lib', 'accent'),
      spelling: fc.constantFrom<Spelling>('upper', 'dot-segment', 'double-slash', 'backslash', 'trailing-slash', 'nfd'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('declared-size' as const),
      rel: relPath,
      body: smallBody,
      declared: fc.oneof(fc.nat({ max: 2000 }), fc.constantFrom(2 ** 30, 8 ** 11 - 1)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw-size' as const),
      rel: relPath,
      size: fc.oneof(
        fc.constant([0x80, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff]),
        fc.constant([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        fc.constant([...Buffer.from('zzzzzzzzzzz\0')]),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 12, maxLength: 12 }),
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('pax' as const),
      rel: relPath,
      body: smallBody,
      records: fc.dictionary(
        fc.constantFrom('size', 'path', 'linkpath', 'mtime', 'comment', 'uid'),
        fc.oneof(fc.constantFrom('0', '-1', 'abc', '1e309', '99999999999999999999', '../../x', '/abs', ''), fc.string({ maxLength: 20 })),
        { maxKeys: 3 },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('checksum' as const),
      rel: relPath,
      delta: fc.oneof(fc.constant(1), fc.integer({ min: -1000, max: 1000 })).filter((d) => d !== 0),
    }),
  },
);

/** Valid Cargo.toml pieces a sound manifest may carry (keys of [package] first, then tables). */
export const FRAGMENTS = [
  'description = """\nA crate\nwith a long description\n"""',
  'authors = ["A <a@example.com>", "B"]',
  'license = "MIT OR Apache-2.0"',
  '[dependencies]\nserde = { version = "1", features = ["derive"] }',
  '[features]\ndefault = ["std"]\nstd = []',
  '[target.\'cfg(unix)\'.dependencies]\nlibc = "0.2"',
  '[package.metadata.docs.rs]\nall-features = true',
  '[[bin]]\nname = "tool"\npath = "src/main.rs"',
  '# a comment with unicode: é ✓\n[badges]\nmaintenance = { status = "passively-maintained" }',
];

const manifestCase: fc.Arbitrary<ManifestCase> = fc.oneof(
  {
    weight: 40,
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      fragments: fc.uniqueArray(fc.nat({ max: FRAGMENTS.length - 1 }), { maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('other-name' as const), name: fc.constantFrom('other', 'FUZZ', '', 'a b') }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('other-version' as const), version: fc.constantFrom('0.0.0', '1.0.0+build', '9.9.9', '') }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('no-package', 'package-not-table', 'missing', 'bom', 'crlf') }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('malformed' as const),
      at: fc.nat(),
      junk: fc.constantFrom('[package', '= =', '"unterminated', '\u0000', 'x = 1\nx = 2', '[[', '\\'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      style: fc.constantFrom('array', 'inline-table', 'dotted-key', 'table-header'),
      depth: fc.constantFrom(2, 50, 500, 999, 1001, 3000, 20_000),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), bytes: fc.constantFrom(1000, 20_000, 70_000) }) },
);

const tarDamage: fc.Arbitrary<TarDamage> = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'no-end-blocks' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('garbage-after' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 600 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
);

const gzipDamage: fc.Arbitrary<GzipDamage> = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('not-gzip', 'empty-gzip', 'two-members') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('trailing' as const),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bomb' as const), kib: fc.constantFrom(16, 200, 1024, 4096) }) },
);

/** Mostly sound crates; about half carry some damage. */
export const crateCaseArb: fc.Arbitrary<CrateCase> = fc.record({
  otherFolder: fc.oneof(
    { weight: 40, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom('other-1.0.0', 'FUZZ-1.0.0', '', '.', '..') },
  ),
  manifest: manifestCase,
  manifestEncoding: fc.constantFrom<TarNameEncoding>('plain', 'plain', 'plain', 'prefix', 'pax', 'gnu-long'),
  manifestLast: fc.boolean(),
  extras: fc.oneof(
    { weight: 3, arbitrary: fc.constant<readonly ExtraEntry[]>([]) },
    { weight: 2, arbitrary: fc.array(extraEntry, { maxLength: 3 }) },
  ),
  fillerFiles: fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 3 }) }, { weight: 1, arbitrary: fc.nat({ max: 60 }) }),
  tar: tarDamage,
  gzip: gzipDamage,
});
