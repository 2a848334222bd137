// Publish requests for the fuzz campaign: cargo's body (u32 length, JSON metadata, u32 length,
// .crate) built mostly valid, then damaged in one place at a time: the framing lengths, the JSON
// text, a field's type or size or depth, the name and version (from the edges of the rules),
// dependencies, features, the token, and the .crate itself (crate-case.ts). A case is plain data;
// publish-case-build.ts turns it into a request and says, by rules written there, whether an honest
// registry must refuse it.

import fc from 'fast-check';
import { crateCaseArb, type CrateCase, type CrateLimits } from './crate-case.js';
import { edgeNameArb, edgeVersionArb } from './fuzz-names.js';

export interface PublishLimits extends CrateLimits {
  maxBodyBytes: number;
  maxMetadataBytes: number;
}

/** Who sends the request: the admin, another user, no token, or a token that does not exist. */
export type Identity = 'admin' | 'mallory' | 'none' | 'bogus';

export const CRATES_IO_INDEX = 'https://github.com/rust-lang/crates.io-index';
/** A crate the campaign publishes before it starts, so that local dependencies can name it. */
export const EXISTING_CRATE = 'existing';

export type DepCase =
  | {
      kind: 'crates-io';
      name: string;
      req: string;
      optional: boolean;
      kindField: 'normal' | 'dev' | 'build';
      target: string | null;
      features: string[];
    }
  | { kind: 'local-existing'; rename: string | null }
  | { kind: 'local-missing'; name: string }
  | { kind: 'other-registry'; registry: string }
  | { kind: 'local-invalid-name'; name: string };

/** A value put in place of a metadata field, labelled with its JSON type for the oracle. */
export type Weird =
  | { type: 'null' | 'boolean' | 'number' | 'object' | 'array-of-strings' | 'empty-array' | 'array-of-other' | 'string'; json: string }
  | { type: 'deep-array' | 'deep-object'; depth: number }
  | { type: 'huge-string'; length: number };

export type MetadataDamage =
  | { kind: 'none' }
  | { kind: 'delete'; field: string }
  | { kind: 'set'; field: string; value: Weird }
  | { kind: 'extra-field'; value: Weird }
  | { kind: 'not-an-object'; json: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert-bytes'; at: number; bytes: number[] }
  | { kind: 'bom' | 'whitespace' }
  | { kind: 'duplicate-key'; field: 'name' | 'vers'; value: string };

export type FramingDamage =
  | { kind: 'none' | 'empty' }
  | { kind: 'metadata-length' | 'crate-length'; delta: number; value?: undefined }
  | { kind: 'metadata-length-is' | 'crate-length-is'; value: number; delta?: undefined }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: number }
  | { kind: 'short'; bytes: number[] };

export interface PublishCase {
  identity: Identity;
  name: string;
  version: string;
  deps: readonly DepCase[];
  features: Record<string, string[]>;
  metadata: MetadataDamage;
  crate: CrateCase;
  framing: FramingDamage;
}

export interface BuiltPublish {
  body: Buffer;
  identity: Identity;
  /** The name and version the metadata claims (when it is readable at all). */
  name: string;
  version: string;
  /** The .crate bytes inside the body: what a download must return when the publish is accepted. */
  crate: Buffer;
  /** Why an honest registry must refuse the request; undefined when it may accept it. */
  mustRefuse: string | undefined;
  /** True when nothing was damaged and the sender may publish: only a clash with stored crates may refuse it. */
  clean: boolean;
}

// ------------------------------------------------------------------ arbitraries

const featureName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_+.-]{0,15}$/).filter((f) => f !== '__proto__');
const featureValue = fc.oneof(
  featureName,
  featureName.map((f) => `dep:${f}`),
  fc.tuple(featureName, featureName).map(([a, b]) => `${a}?/${b}`),
);
const featuresArb = fc.dictionary(featureName, fc.array(featureValue, { maxLength: 4 }), { maxKeys: 4 });

const depArb: fc.Arbitrary<DepCase> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('crates-io' as const),
      name: fc.stringMatching(/^[a-z][a-z0-9_-]{0,20}$/),
      req: fc.constantFrom('^1', '*', '>=1.2, <2', '=0.3.1', '~1.1', 'not a req', ''),
      optional: fc.boolean(),
      kindField: fc.constantFrom('normal', 'dev', 'build'),
      target: fc.constantFrom(null, 'cfg(unix)', 'cfg(target_os = "linux")', 'x86_64-unknown-linux-gnu'),
      features: fc.array(featureName, { maxLength: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('local-existing' as const), rename: fc.constantFrom(null, 'renamed', 'x') }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('local-missing' as const),
      name: fc.constantFrom('nosuchcrate', 'Existing', 'EXISTING', 'exist-ing'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('other-registry' as const),
      registry: fc.constantFrom('https://evil.example/index', 'sparse+https://index.crates.io/', `${CRATES_IO_INDEX}.evil`),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('local-invalid-name' as const), name: fc.constantFrom('9x', 'a.b', '', 'std') }) },
);

const weirdArb: fc.Arbitrary<Weird> = fc.oneof(
  fc.constantFrom<Weird>(
    { type: 'null', json: 'null' },
    { type: 'boolean', json: 'true' },
    { type: 'number', json: '0' },
    { type: 'number', json: '-1.5e308' },
    { type: 'object', json: '{}' },
    { type: 'object', json: '{"a":[1,{"b":null}]}' },
    { type: 'array-of-strings', json: '["x","y"]' },
    { type: 'empty-array', json: '[]' },
    { type: 'array-of-other', json: '[1,null,{}]' },
    { type: 'string', json: '""' },
    { type: 'string', json: '"\\u0000\\ud800 <script>"' },
  ),
  fc.record({ type: fc.constantFrom('deep-array', 'deep-object'), depth: fc.constantFrom(2, 100, 5000, 100_000) }),
  fc.record({ type: fc.constant('huge-string'), length: fc.constantFrom(100, 4000, 40_000) }),
);

/** Each metadata field and the JSON types the registry may accept for it. */
export const FIELD_TYPES: Record<string, ReadonlyArray<Weird['type']>> = {
  name: ['string', 'huge-string'],
  vers: ['string', 'huge-string'],
  deps: ['empty-array'],
  features: ['object'],
  authors: ['null', 'empty-array', 'array-of-strings'],
  keywords: ['null', 'empty-array', 'array-of-strings'],
  categories: ['null', 'empty-array', 'array-of-strings'],
  description: ['null', 'string', 'huge-string'],
  documentation: ['null', 'string', 'huge-string'],
  homepage: ['null', 'string', 'huge-string'],
  readme: ['null', 'string', 'huge-string'],
  readme_file: ['null', 'string', 'huge-string'],
  license: ['null', 'string', 'huge-string'],
  license_file: ['null', 'string', 'huge-string'],
  repository: ['null', 'string', 'huge-string'],
  links: ['null', 'string', 'huge-string'],
  rust_version: ['null', 'string', 'huge-string'],
  badges: [
    'null',
    'boolean',
    'number',
    'object',
    'array-of-strings',
    'empty-array',
    'array-of-other',
    'string',
    'deep-array',
    'deep-object',
    'huge-string',
  ],
};
export const REQUIRED_FIELDS = new Set(['name', 'vers', 'deps']);
const FIELDS = Object.keys(FIELD_TYPES);

const metadataDamage: fc.Arbitrary<MetadataDamage> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), field: fc.constantFrom(...FIELDS) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), field: fc.constantFrom(...FIELDS), value: weirdArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extra-field' as const), value: weirdArb }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('not-an-object' as const), json: fc.constantFrom('[]', '"x"', '1', 'null', 'true', '') }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('insert-bytes' as const),
      at: fc.nat(),
      bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('bom', 'whitespace') }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('duplicate-key' as const),
      field: fc.constantFrom('name', 'vers'),
      value: fc.constantFrom('other', '0.0.1', ''),
    }),
  },
);

const framingDamage: fc.Arbitrary<FramingDamage> = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom('metadata-length', 'crate-length'),
      delta: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer()).filter((d) => d !== 0),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constantFrom('metadata-length-is', 'crate-length-is'),
      value: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.constantFrom(1, 3, 4, 9, 100_000) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('short' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 7 }) }),
  },
);

/** A small pool of names that keep colliding (taken, other spellings), and names from the edges of the rules. */
const nameArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('fuzzed', 'Fuzzed', 'fuzz-ed', 'fuzz_ed', EXISTING_CRATE, 'Existing', 'a', 'ab', 'abc', 'abcd') },
  { weight: 7, arbitrary: edgeNameArb },
);

export const publishCaseArb: fc.Arbitrary<PublishCase> = fc.record({
  identity: fc.oneof(
    { weight: 12, arbitrary: fc.constant<Identity>('admin') },
    { weight: 3, arbitrary: fc.constant<Identity>('mallory') },
    { weight: 1, arbitrary: fc.constantFrom<Identity>('none', 'bogus') },
  ),
  name: nameArb,
  version: edgeVersionArb,
  deps: fc.oneof(
    { weight: 3, arbitrary: fc.constant<readonly DepCase[]>([]) },
    { weight: 2, arbitrary: fc.array(depArb, { maxLength: 4 }) },
  ),
  features: fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: featuresArb }),
  metadata: metadataDamage,
  crate: crateCaseArb,
  framing: framingDamage,
});
