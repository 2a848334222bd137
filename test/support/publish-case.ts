// Publish requests for the fuzz campaign: cargo's body (u32 length, JSON metadata, u32 length,
// .crate) built mostly valid, then damaged in one place at a time: the framing lengths, the JSON
// text, a field's type or size or depth, the name and version (from the edges of the rules),
// dependencies, features, the token, and the .crate itself (crate-case.ts). A case is plain data;
// buildPublish turns it into a request and says, by rules written here, whether an honest registry
// must refuse it.

import fc from 'fast-check';
import { buildCrate, crateCaseArb, type CrateCase, type CrateLimits } from './crate-case.js';
import { dependency, metadataFor } from './crate-fixture.js';
import { edgeNameArb, edgeVersionArb, isReservedName, isSemver, nameFollowsRules } from './fuzz-names.js';

export interface PublishLimits extends CrateLimits {
  maxBodyBytes: number;
  maxMetadataBytes: number;
}

/** Who sends the request: the admin, another user, no token, or a token that does not exist. */
export type Identity = 'admin' | 'mallory' | 'none' | 'bogus';

export const CRATES_IO_INDEX = 'https://github.com/rust-lang/crates.io-index';
/** A crate the campaign publishes before it starts, so that local dependencies can name it. */
export const EXISTING_CRATE = 'existing';

type DepCase =
  | { kind: 'crates-io'; name: string; req: string; optional: boolean; kindField: 'normal' | 'dev' | 'build'; target: string | null; features: string[] }
  | { kind: 'local-existing'; rename: string | null }
  | { kind: 'local-missing'; name: string }
  | { kind: 'other-registry'; registry: string }
  | { kind: 'local-invalid-name'; name: string };

/** A value put in place of a metadata field, labelled with its JSON type for the oracle. */
type Weird =
  | { type: 'null' | 'boolean' | 'number' | 'object' | 'array-of-strings' | 'empty-array' | 'array-of-other' | 'string'; json: string }
  | { type: 'deep-array' | 'deep-object'; depth: number }
  | { type: 'huge-string'; length: number };

type MetadataDamage =
  | { kind: 'none' }
  | { kind: 'delete'; field: string }
  | { kind: 'set'; field: string; value: Weird }
  | { kind: 'extra-field'; value: Weird }
  | { kind: 'not-an-object'; json: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert-bytes'; at: number; bytes: number[] }
  | { kind: 'bom' | 'whitespace' }
  | { kind: 'duplicate-key'; field: 'name' | 'vers'; value: string };

type FramingDamage =
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
const featureValue = fc.oneof(featureName, featureName.map((f) => `dep:${f}`), fc.tuple(featureName, featureName).map(([a, b]) => `${a}?/${b}`));
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
      target: fc.constantFrom(null, 'cfg(unix)', "cfg(target_os = \"linux\")", 'x86_64-unknown-linux-gnu'),
      features: fc.array(featureName, { maxLength: 3 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('local-existing' as const), rename: fc.constantFrom(null, 'renamed', 'x') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('local-missing' as const), name: fc.constantFrom('nosuchcrate', 'Existing', 'EXISTING', 'exist-ing') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('other-registry' as const), registry: fc.constantFrom('https://evil.example/index', 'sparse+https://index.crates.io/', `${CRATES_IO_INDEX}.evil`) }) },
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
const FIELD_TYPES: Record<string, ReadonlyArray<Weird['type']>> = {
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
  badges: ['null', 'boolean', 'number', 'object', 'array-of-strings', 'empty-array', 'array-of-other', 'string', 'deep-array', 'deep-object', 'huge-string'],
};
const REQUIRED_FIELDS = new Set(['name', 'vers', 'deps']);
const FIELDS = Object.keys(FIELD_TYPES);

const metadataDamage: fc.Arbitrary<MetadataDamage> = fc.oneof(
  { weight: 30, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), field: fc.constantFrom(...FIELDS) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), field: fc.constantFrom(...FIELDS), value: weirdArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('extra-field' as const), value: weirdArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('not-an-object' as const), json: fc.constantFrom('[]', '"x"', '1', 'null', 'true', '') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert-bytes' as const), at: fc.nat(), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('bom', 'whitespace') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate-key' as const), field: fc.constantFrom('name', 'vers'), value: fc.constantFrom('other', '0.0.1', '') }) },
);

const framingDamage: fc.Arbitrary<FramingDamage> = fc.oneof(
  { weight: 40, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'empty' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('metadata-length', 'crate-length'), delta: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer()).filter((d) => d !== 0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('metadata-length-is', 'crate-length-is'), value: fc.constantFrom(0, 1, 0x7fffffff, 0xffffffff) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), bytes: fc.constantFrom(1, 3, 4, 9, 100_000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('short' as const), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 7 }) }) },
);

/** A small pool of names that keep colliding (taken, other spellings), and names from the edges of the rules. */
const nameArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('fuzzed', 'Fuzzed', 'fuzz-ed', 'fuzz_ed', EXISTING_CRATE, 'Existing', 'a', 'ab', 'abc', 'abcd') },
  { weight: 7, arbitrary: edgeNameArb },
);

export const publishCaseArb: fc.Arbitrary<PublishCase> = fc.record({
  identity: fc.oneof({ weight: 12, arbitrary: fc.constant<Identity>('admin') }, { weight: 3, arbitrary: fc.constant<Identity>('mallory') }, { weight: 1, arbitrary: fc.constantFrom<Identity>('none', 'bogus') }),
  name: nameArb,
  version: edgeVersionArb,
  deps: fc.oneof({ weight: 3, arbitrary: fc.constant<readonly DepCase[]>([]) }, { weight: 2, arbitrary: fc.array(depArb, { maxLength: 4 }) }),
  features: fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: featuresArb }),
  metadata: metadataDamage,
  crate: crateCaseArb,
  framing: framingDamage,
});

// ------------------------------------------------------------------ building

function depFor(d: DepCase): { value: Record<string, unknown>; problem?: string } {
  switch (d.kind) {
    case 'crates-io':
      return {
        value: dependency(d.name, d.req, { registry: CRATES_IO_INDEX, optional: d.optional, kind: d.kindField, target: d.target, features: d.features }),
        // An empty requirement is refused by the metadata's shape (version_req must not be empty).
        ...(d.req === '' ? { problem: 'a dependency has an empty version requirement' } : {}),
      };
    case 'local-existing':
      return { value: dependency(EXISTING_CRATE, '^1', { explicit_name_in_toml: d.rename }) };
    case 'local-missing':
      return { value: dependency(d.name, '^1'), problem: `dependency \`${d.name}\` is not a crate of this registry` };
    case 'other-registry':
      return { value: dependency('evil', '^1', { registry: d.registry }), problem: `a dependency comes from ${d.registry}` };
    case 'local-invalid-name':
      return { value: dependency(d.name, '^1'), problem: `dependency \`${d.name}\` has an invalid name` };
  }
}

const DEEP = '\u0000deep\u0000';

function weirdJson(value: Weird): string {
  switch (value.type) {
    case 'deep-array':
      return '['.repeat(value.depth) + ']'.repeat(value.depth);
    case 'deep-object':
      return '{"a":'.repeat(value.depth) + '1' + '}'.repeat(value.depth);
    case 'huge-string':
      return JSON.stringify('x'.repeat(value.length));
    default:
      return value.json;
  }
}

/** The metadata's JSON text and why it must be refused, if it must. */
function metadataJson(c: PublishCase, deps: unknown[], limits: PublishLimits): { json: Buffer; problem?: string } {
  const object: Record<string, unknown> = metadataFor(c.name, c.version, { deps, features: c.features });
  const d = c.metadata;
  let problem: string | undefined;
  if (d.kind === 'delete') {
    delete object[d.field];
    if (REQUIRED_FIELDS.has(d.field)) problem = `the metadata has no \`${d.field}\``;
  }
  if (d.kind === 'set' || d.kind === 'extra-field') {
    const field = d.kind === 'set' ? d.field : 'unexpected_field';
    object[field] = DEEP;
    if (d.kind === 'set' && !FIELD_TYPES[d.field]!.includes(d.value.type)) problem = `\`${d.field}\` is a ${d.value.type}`;
  }
  let text = JSON.stringify(object);
  if (d.kind === 'set' || d.kind === 'extra-field') text = text.replace(JSON.stringify(DEEP), () => weirdJson(d.value));
  switch (d.kind) {
    case 'not-an-object':
      text = d.json;
      problem = 'the metadata is not a JSON object';
      break;
    case 'truncate': {
      const at = d.at % text.length;
      text = text.slice(0, at);
      problem = 'the metadata is cut short';
      break;
    }
    case 'bom':
      text = `\uFEFF${text}`;
      problem = 'the metadata starts with a byte-order mark, which JSON does not allow';
      break;
    case 'whitespace':
      text = ` \n\t${text}\r\n `;
      break;
    case 'duplicate-key':
      text = `${text.slice(0, -1)},${JSON.stringify(d.field)}:${JSON.stringify(d.value)}}`;
      break;
  }
  let json = Buffer.from(text, 'utf8');
  if (d.kind === 'insert-bytes') {
    const at = d.at % (json.length + 1);
    json = Buffer.concat([json.subarray(0, at), Buffer.from(d.bytes), json.subarray(at)]);
  }
  if (json.length > limits.maxMetadataBytes) problem = `the metadata is ${json.length} bytes, over the limit`;
  return { json, ...(problem ? { problem } : {}) };
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0);
  return b;
}

function frame(json: Buffer, crate: Buffer, d: FramingDamage): { body: Buffer; problem?: string } {
  const body = (jsonLength: number, crateLength: number) => Buffer.concat([u32(jsonLength), json, u32(crateLength), crate]);
  const whole = body(json.length, crate.length);
  switch (d.kind) {
    case 'none':
      return { body: whole };
    case 'empty':
      return { body: Buffer.alloc(0), problem: 'the body is empty' };
    case 'metadata-length':
    case 'metadata-length-is': {
      const value = d.delta !== undefined ? json.length + d.delta : d.value;
      if (value >>> 0 === json.length) return { body: whole };
      return { body: body(value, crate.length), problem: `the metadata length says ${value >>> 0}, not ${json.length}` };
    }
    case 'crate-length':
    case 'crate-length-is': {
      const value = d.delta !== undefined ? crate.length + d.delta : d.value;
      if (value >>> 0 === crate.length) return { body: whole };
      return { body: body(json.length, value), problem: `the crate length says ${value >>> 0}, not ${crate.length}` };
    }
    case 'truncate': {
      const at = d.at % whole.length;
      return { body: whole.subarray(0, at), problem: `the body is cut at byte ${at} of ${whole.length}` };
    }
    case 'append':
      return { body: Buffer.concat([whole, Buffer.alloc(d.bytes, 0x20)]), problem: `the body has ${d.bytes} bytes after the crate` };
    case 'short':
      return { body: Buffer.from(d.bytes), problem: `the body is ${d.bytes.length} bytes` };
  }
}

/** The request for a case and whether it must be refused, under `limits`. */
export function buildPublish(c: PublishCase, limits: PublishLimits): BuiltPublish {
  const problems: string[] = [];
  // A damaged metadata field is what the registry reads: judge a field only when it is intact.
  const d = c.metadata;
  const intact = (field: string) =>
    !((d.kind === 'set' || d.kind === 'delete') && d.field === field) && !(d.kind === 'duplicate-key' && d.field === field);
  if (c.identity === 'none' || c.identity === 'bogus') problems.push(`the request has ${c.identity === 'none' ? 'no' : 'a bogus'} token`);
  if (intact('name') && !nameFollowsRules(c.name)) problems.push(`\`${c.name}\` breaks the crate name rules`);
  else if (intact('name') && isReservedName(c.name)) problems.push(`\`${c.name}\` is reserved`);
  if (intact('vers') && !isSemver(c.version)) problems.push(`\`${c.version}\` is not SemVer`);

  const deps = c.deps.map(depFor);
  if (intact('deps')) for (const dep of deps) if (dep.problem) problems.push(dep.problem);
  const metadata = metadataJson(c, deps.map((d) => d.value), limits);
  if (metadata.problem) problems.push(metadata.problem);

  const crate = buildCrate(c.crate, c.name, c.version, limits);
  if (crate.mustRefuse) problems.push(crate.mustRefuse);
  const framed = frame(metadata.json, crate.bytes, c.framing);
  if (framed.problem) problems.push(framed.problem);
  if (framed.body.length > limits.maxBodyBytes) problems.push(`the body is ${framed.body.length} bytes, over the limit`);

  // A registry may refuse a version of unusual length (this one caps versions to fit a URL segment);
  // below this length a clean publish must go through.
  const ordinary = c.version.length <= 64;
  const undamaged = ordinary && c.metadata.kind === 'none' && c.framing.kind === 'none' && crate.mustRefuse === undefined && problems.length === 0;
  return {
    body: framed.body,
    identity: c.identity,
    name: c.name,
    version: c.version,
    crate: crate.bytes,
    mustRefuse: problems[0],
    clean: undamaged && isCleanCrate(c.crate),
  };
}

/** A crate case with no damage at all (so that only a clash with stored crates may refuse it). */
function isCleanCrate(c: CrateCase): boolean {
  return (
    c.otherFolder === null &&
    c.manifest.kind === 'valid' &&
    c.extras.length === 0 &&
    c.tar.kind === 'none' &&
    c.gzip.kind === 'none'
  );
}
