// .crate files for the fuzz campaign: a valid crate (Cargo.toml, src/lib.rs, a few more files)
// with targeted damage: paths that leave the folder, links and device entries, the same path in
// other spellings, declared sizes that lie, pax and GNU headers, broken checksums, too many entries,
// manifests that are malformed, too deep, too large or name another package, and gzip streams that
// are truncated, corrupted, concatenated or that unpack to far more than they weigh.
// A case is plain data (fast-check prints and shrinks it); buildCrate turns it into bytes and says
// whether an honest registry must refuse it, by rules written here independently of src/domain.

import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { writeTar, type RawTarEntry, type TarNameEncoding } from './tar-writer.js';

export interface CrateLimits {
  maxUnpackedBytes: number;
  maxEntries: number;
  maxManifestBytes: number;
}

type PathShape =
  | { shape: 'inside' | 'dotdot' | 'dotdot-backslash' | 'absolute' | 'drive' | 'outside' | 'dot-first' | 'prefix-only'; rel: string }
  | { shape: 'long'; length: number }
  | { shape: 'raw'; text: string };

type Spelling = 'upper' | 'dot-segment' | 'double-slash' | 'backslash' | 'trailing-slash' | 'nfd';

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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('checksum' as const), rel: relPath, delta: fc.oneof(fc.constant(1), fc.integer({ min: -1000, max: 1000 })) }) },
);

const FRAGMENTS = [
  'description = """\nA crate\nwith a long description\n"""',
  'authors = ["A <a@example.com>", "B"]',
  'license = "MIT OR Apache-2.0"',
  '[dependencies]\nserde = { version = "1", features = ["derive"] }',
  '[features]\ndefault = ["std"]\nstd = []',
  "[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"",
  '[package.metadata.docs.rs]\nall-features = true',
  '[[bin]]\nname = "tool"\npath = "src/main.rs"',
  '# a comment with unicode: é ✓\n[badges]\nmaintenance = { status = "passively-maintained" }',
];

const manifestCase: fc.Arbitrary<ManifestCase> = fc.oneof(
  { weight: 40, arbitrary: fc.record({ kind: fc.constant('valid' as const), fragments: fc.uniqueArray(fc.nat({ max: FRAGMENTS.length - 1 }), { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('other-name' as const), name: fc.constantFrom('other', 'FUZZ', '', 'a b') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('other-version' as const), version: fc.constantFrom('0.0.0', '1.0.0+build', '9.9.9', '') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('no-package', 'package-not-table', 'missing', 'bom', 'crlf') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('malformed' as const), at: fc.nat(), junk: fc.constantFrom('[package', '= =', '"unterminated', '\u0000', 'x = 1\nx = 2', '[[', '\\') }) },
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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('garbage-after' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 600 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
);

const gzipDamage: fc.Arbitrary<GzipDamage> = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('not-gzip', 'empty-gzip', 'two-members') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('trailing' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }) }) },
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
  extras: fc.oneof({ weight: 3, arbitrary: fc.constant<readonly ExtraEntry[]>([]) }, { weight: 2, arbitrary: fc.array(extraEntry, { maxLength: 3 }) }),
  fillerFiles: fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 3 }) }, { weight: 1, arbitrary: fc.nat({ max: 60 }) }),
  tar: tarDamage,
  gzip: gzipDamage,
});

// ------------------------------------------------------------------ building

/** The form under which two paths are the same file on Linux, macOS (case, NFD) or Windows (case, `\`). */
export function samePathKey(path: string): string {
  return path
    .split(/[/\\]+/)
    .filter((s) => s !== '' && s !== '.')
    .join('/')
    .normalize('NFC')
    .toLowerCase();
}

function pathFor(shape: PathShape, prefix: string): string {
  switch (shape.shape) {
    case 'inside':
      return `${prefix}/${shape.rel}`;
    case 'dotdot':
      return `${prefix}/../${shape.rel}`;
    case 'dotdot-backslash':
      return `${prefix}\\..\\${shape.rel}`;
    case 'absolute':
      return `/${prefix}/${shape.rel}`;
    case 'drive':
      return `C:${prefix}/${shape.rel}`;
    case 'outside':
      return `not-${prefix}/${shape.rel}`;
    case 'dot-first':
      return `./${prefix}/${shape.rel}`;
    case 'prefix-only':
      return `${prefix}${shape.rel}`;
    case 'long': {
      let path = `${prefix}/`;
      while (path.length < shape.length) path += 'd123456789/';
      return `${path}f.rs`;
    }
    case 'raw':
      return shape.text;
  }
}

/** Whether a reader sees exactly `name` when it is written with `encoding` (else the oracle stays silent). */
function nameSurvives(name: string, encoding: TarNameEncoding): boolean {
  if (name.includes('\0') || name === '') return false;
  const bytes = Buffer.byteLength(name);
  if (encoding === 'plain') return bytes < 100;
  if (encoding === 'prefix') {
    const cut = name.lastIndexOf('/', 154);
    return cut > 0 ? Buffer.byteLength(name.slice(cut + 1)) < 100 && Buffer.byteLength(name.slice(0, cut)) < 155 : bytes < 100;
  }
  return true;
}

/** `preferred`, unless a reader would not see the whole name written so: then a GNU long name, as cargo writes one. */
function encodingFor(name: string, preferred: TarNameEncoding = 'plain'): TarNameEncoding {
  return nameSurvives(name, preferred) ? preferred : 'gnu-long';
}

/** Why a path must be refused, by the rule that every entry stays inside `prefix/`. */
function pathProblem(name: string, prefix: string): string | undefined {
  if (!name.startsWith(`${prefix}/`)) return `\`${name}\` is outside \`${prefix}/\``;
  if (name.split(/[/\\]/).includes('..')) return `\`${name}\` has a \`..\` segment`;
  return undefined;
}

function respell(path: string, spelling: Spelling): string {
  switch (spelling) {
    case 'upper':
      return path.toUpperCase() === path ? path.toLowerCase() : path.replace(/[a-z]/, (c) => c.toUpperCase());
    case 'dot-segment':
      return path.replace('/', '/./');
    case 'double-slash':
      return path.replace('/', '//');
    case 'backslash':
      return path.replace(/\/([^/]*)$/, '\\$1');
    case 'trailing-slash':
      return `${path}/`;
    case 'nfd':
      return path.normalize('NFD') === path ? path.toUpperCase() : path.normalize('NFD');
  }
}

function manifestText(c: ManifestCase, name: string, version: string): string | undefined {
  const head = `[package]\nname = ${JSON.stringify(name)}\nversion = ${JSON.stringify(version)}\nedition = "2021"\n`;
  switch (c.kind) {
    case 'valid': {
      const chosen = c.fragments.map((i) => FRAGMENTS[i]!);
      const keys = chosen.filter((f) => !f.startsWith('[') && !f.startsWith('#'));
      const tables = chosen.filter((f) => f.startsWith('[') || f.startsWith('#'));
      return [head + keys.map((k) => `${k}\n`).join(''), ...tables].join('\n');
    }
    case 'other-name':
      return `[package]\nname = ${JSON.stringify(c.name)}\nversion = ${JSON.stringify(version)}\n`;
    case 'other-version':
      return `[package]\nname = ${JSON.stringify(name)}\nversion = ${JSON.stringify(c.version)}\n`;
    case 'no-package':
      return `[dependencies]\nname = ${JSON.stringify(name)}\n`;
    case 'package-not-table':
      return `package = ${JSON.stringify(name)}\n`;
    case 'missing':
      return undefined;
    case 'bom':
      return `\uFEFF${head}`;
    case 'crlf':
      return head.replaceAll('\n', '\r\n');
    case 'malformed': {
      const at = c.at % (head.length + 1);
      return head.slice(0, at) + c.junk + head.slice(at);
    }
    case 'deep': {
      const n = c.depth;
      switch (c.style) {
        case 'array':
          return `${head}[package.metadata]\nx = ${'['.repeat(n)}${']'.repeat(n)}\n`;
        case 'inline-table':
          return `${head}[package.metadata]\nx = ${'{ a = '.repeat(n)}1${' }'.repeat(n)}\n`;
        case 'dotted-key':
          return `${head}[package.metadata]\n${Array.from({ length: n }, () => 'a').join('.')} = 1\n`;
        case 'table-header':
          return `${head}[package.metadata.${Array.from({ length: n }, () => 'a').join('.')}]\nx = 1\n`;
      }
      break;
    }
    case 'huge':
      return `${head}# ${'x'.repeat(c.bytes)}\n`;
  }
  return undefined;
}

/** Why the manifest must make the registry refuse the crate, when it certainly must. */
function manifestProblem(c: ManifestCase, name: string, version: string, text: string | undefined, limits: CrateLimits): string | undefined {
  if (text === undefined) return 'the crate has no Cargo.toml';
  if (Buffer.byteLength(text) > limits.maxManifestBytes) return 'the Cargo.toml is larger than the limit';
  switch (c.kind) {
    case 'other-name':
      return c.name !== name ? 'the Cargo.toml names another package' : undefined;
    case 'other-version':
      return c.version !== version ? 'the Cargo.toml has another version' : undefined;
    case 'no-package':
    case 'package-not-table':
      return 'the Cargo.toml has no [package] table';
    default:
      return undefined;
  }
}

function gzipMember(data: Buffer): Buffer {
  return gzipSync(data, { level: 1 });
}

const zeroMembers = new Map<number, Buffer>();
/** A gzip member of `kib` KiB of zeros (a few bytes per KiB): the compression bomb. */
function zeros(kib: number): Buffer {
  let member = zeroMembers.get(kib);
  if (member === undefined) {
    member = gzipSync(Buffer.alloc(kib * 1024), { level: 9 });
    zeroMembers.set(kib, member);
  }
  return member;
}

interface Assembled {
  entries: RawTarEntry[];
  /** Problems that hold whatever a reader makes of the entries (the manifest's content, the folder). */
  problems: string[];
  /** Problems judged entry by entry: they hold only while every entry is read as written. */
  entryProblems: string[];
}

function isWellFormed(text: string): boolean {
  return Buffer.from(text, 'utf8').toString('utf8') === text;
}

/**
 * The entries of a crate case. Entry problems are judged only while the archive is read as written:
 * once an entry's size lies (declared size, raw size field, pax size), what follows may be read as
 * data, and a registry that accepts the result sees, like cargo would, a different archive.
 */
function assembleEntries(c: CrateCase, prefix: string, name: string, version: string, limits: CrateLimits): Assembled {
  const problems: string[] = [];
  const entryProblems: string[] = [];
  const entries: RawTarEntry[] = [];
  const seen = new Map<string, string>();
  let count = 0;
  let sound = true;
  /** Adds an entry; `seenAs` is the name a reader sees (undefined: not predictable, not judged). */
  const add = (entry: RawTarEntry, seenAs: string | undefined = entry.name) => {
    entries.push(entry);
    count++;
    if (!sound || seenAs === undefined) return;
    const problem = pathProblem(seenAs, prefix);
    if (problem) entryProblems.push(problem);
    const key = samePathKey(seenAs);
    const earlier = seen.get(key);
    if (earlier !== undefined) entryProblems.push(`\`${seenAs}\` is \`${earlier}\` again`);
    else seen.set(key, seenAs);
  };

  const text = manifestText(c.manifest, name, version);
  const manifestPath = `${prefix}/Cargo.toml`;
  const manifestEntry: RawTarEntry | undefined =
    text === undefined ? undefined : { name: manifestPath, encoding: encodingFor(manifestPath, c.manifestEncoding), body: Buffer.from(text, 'utf8') };
  const problem = manifestProblem(c.manifest, name, version, text, limits);
  if (problem) problems.push(problem);

  if (manifestEntry && !c.manifestLast) add(manifestEntry);
  const plainFile = (name: string, body: string): RawTarEntry => ({ name, encoding: encodingFor(name), body: Buffer.from(body) });
  add(plainFile(`${prefix}/src/lib.rs`, 'pub fn f() {}\n'));
  for (let i = 0; i < c.fillerFiles; i++) add(plainFile(`${prefix}/src/filler${i}.rs`, `// ${i}\n`));

  for (const extra of c.extras) {
    switch (extra.kind) {
      case 'file': {
        const path = pathFor(extra.path, prefix);
        add({ name: path, encoding: extra.encoding, body: Buffer.from(extra.body) }, nameSurvives(path, extra.encoding) ? path : undefined);
        break;
      }
      case 'type': {
        const name = `${prefix}/${extra.rel}`;
        const entry: RawTarEntry = { name, encoding: encodingFor(name), typeflag: extra.typeflag, linkname: extra.linkname };
        if (['g', 'x', 'L', 'K'].includes(extra.typeflag)) {
          // Pax and GNU headers are not entries: they change the next one, so stop judging.
          entries.push(entry);
          sound = false;
          break;
        }
        if (sound && ['1', '2', '3', '4', '6'].includes(extra.typeflag)) entryProblems.push(`an entry of typeflag ${extra.typeflag}`);
        add(entry);
        break;
      }
      case 'duplicate': {
        let original = extra.of === 'manifest' ? manifestPath : `${prefix}/src/lib.rs`;
        if (extra.of === 'accent') {
          original = `${prefix}/src/caf\u00e9.rs`;
          add(plainFile(original, '// é\n'));
        }
        add(plainFile(respell(original, extra.spelling), '// again\n'));
        break;
      }
      case 'declared-size': {
        // A size past the end of the archive cannot be read; a smaller lie may go unnoticed.
        if (sound && extra.declared >= 2 ** 30) entryProblems.push('an entry declares more data than the archive holds');
        const body = Buffer.from(extra.body);
        add({ ...plainFile(`${prefix}/${extra.rel}`, extra.body), declaredSize: extra.declared });
        if (extra.declared !== body.length) sound = false;
        break;
      }
      case 'raw-size':
        add({ ...plainFile(`${prefix}/${extra.rel}`, ''), rawSize: Uint8Array.from(extra.size) });
        sound = false;
        break;
      case 'pax': {
        const body = Buffer.from(extra.body);
        const name = `${prefix}/${extra.rel}`;
        const path = extra.records.path;
        // A non-empty pax path replaces the header's name; an empty one is ignored.
        const seenAs = path ? (isWellFormed(path) && !path.includes('\0') ? path : undefined) : nameSurvives(name, 'plain') ? name : undefined;
        add({ name, encoding: path === undefined ? encodingFor(name) : 'plain', body, pax: extra.records }, seenAs);
        if (extra.records.size !== undefined && extra.records.size !== String(body.length)) sound = false;
        break;
      }
      case 'checksum':
        if (sound) entryProblems.push('an entry has a wrong header checksum');
        add({ ...plainFile(`${prefix}/${extra.rel}`, ''), checksumDelta: extra.delta }, undefined);
        break;
    }
  }
  if (manifestEntry && c.manifestLast) add(manifestEntry);
  if (sound && count > limits.maxEntries) entryProblems.push(`the crate has ${count} entries, more than ${limits.maxEntries}`);
  return { entries, problems, entryProblems };
}

/** Damages the tar; returns false when entries may now be read otherwise than written. */
function damageTar(tar: Buffer, damage: TarDamage, problems: string[]): { tar: Buffer; entriesIntact: boolean } {
  switch (damage.kind) {
    case 'none':
      return { tar, entriesIntact: true };
    case 'no-end-blocks':
      return { tar: tar.subarray(0, tar.length - 1024), entriesIntact: true };
    case 'truncate': {
      const at = damage.at % tar.length;
      // A tar is a sequence of 512-byte records: a partial one at the end is unreadable.
      if (at % 512 !== 0) problems.push(`the tar is cut at byte ${at}, inside a record`);
      return { tar: tar.subarray(0, at), entriesIntact: false };
    }
    case 'garbage-after':
      return { tar: Buffer.concat([tar, Buffer.from(damage.bytes)]), entriesIntact: true };
    case 'flip': {
      // A changed header byte breaks its checksum, unless it is in the checksum field itself.
      const copy = Buffer.from(tar);
      copy[damage.at % copy.length]! ^= damage.xor;
      return { tar: copy, entriesIntact: false };
    }
  }
}

function damageGzip(tar: Buffer, damage: GzipDamage, problems: string[], limits: CrateLimits): Buffer {
  switch (damage.kind) {
    case 'none':
      return gzipMember(tar);
    case 'not-gzip':
      problems.push('the crate is not gzip-compressed');
      return tar;
    case 'empty-gzip':
      problems.push('the crate is an empty gzip stream');
      return gzipMember(Buffer.alloc(0));
    case 'two-members': {
      const half = Math.floor(tar.length / 2);
      return Buffer.concat([gzipMember(tar.subarray(0, half)), gzipMember(tar.subarray(half))]);
    }
    case 'truncate': {
      const whole = gzipMember(tar);
      const at = damage.at % whole.length;
      problems.push(`the gzip stream is cut at byte ${at} of ${whole.length}`);
      return whole.subarray(0, at);
    }
    case 'flip': {
      const copy = gzipMember(tar);
      copy[damage.at % copy.length]! ^= damage.xor;
      return copy;
    }
    case 'trailing':
      return Buffer.concat([gzipMember(tar), Buffer.from(damage.bytes)]);
    case 'bomb':
      if (tar.length + damage.kib * 1024 > limits.maxUnpackedBytes) problems.push(`the crate unpacks to more than ${limits.maxUnpackedBytes} bytes`);
      return Buffer.concat([gzipMember(tar), zeros(damage.kib)]);
  }
}

/** The bytes of a crate case for `name`@`version`, and whether it must be refused. */
export function buildCrate(c: CrateCase, name: string, version: string, limits: CrateLimits): BuiltCrate {
  const prefix = c.otherFolder ?? `${name}-${version}`;
  const { entries, problems, entryProblems } = assembleEntries(c, prefix, name, version, limits);
  if (c.otherFolder !== null && c.otherFolder !== `${name}-${version}`) problems.push(`the crate's folder is \`${c.otherFolder}\``);
  const { tar, entriesIntact } = damageTar(writeTar(entries), c.tar, problems);
  if (entriesIntact) problems.push(...entryProblems);
  const bytes = damageGzip(tar, c.gzip, problems, limits);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) problems.push('the crate does not start like gzip');
  return { bytes, mustRefuse: problems[0] };
}
