// Builds the request of a publish case (publish-case.ts): the dependencies, the metadata JSON with
// its damage, the .crate (crate-case-build.ts), the framing with its damage, and the first reason an
// honest registry must refuse the request, by rules written here independently of src/domain.

import { buildCrate } from './crate-case-build.js';
import type { CrateCase } from './crate-case.js';
import { dependency, metadataFor } from './crate-fixture.js';
import { isReservedName, isSemver, nameFollowsRules } from './fuzz-names.js';
import {
  CRATES_IO_INDEX,
  EXISTING_CRATE,
  FIELD_TYPES,
  REQUIRED_FIELDS,
  type BuiltPublish,
  type DepCase,
  type FramingDamage,
  type PublishCase,
  type PublishLimits,
  type Weird,
} from './publish-case.js';

function depFor(d: DepCase): { value: Record<string, unknown>; problem?: string } {
  switch (d.kind) {
    case 'crates-io':
      return {
        value: dependency(d.name, d.req, {
          registry: CRATES_IO_INDEX,
          optional: d.optional,
          kind: d.kindField,
          target: d.target,
          features: d.features,
        }),
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
  const metadata = metadataJson(
    c,
    deps.map((d) => d.value),
    limits,
  );
  if (metadata.problem) problems.push(metadata.problem);

  const crate = buildCrate(c.crate, c.name, c.version, limits);
  if (crate.mustRefuse) problems.push(crate.mustRefuse);
  const framed = frame(metadata.json, crate.bytes, c.framing);
  if (framed.problem) problems.push(framed.problem);
  if (framed.body.length > limits.maxBodyBytes) problems.push(`the body is ${framed.body.length} bytes, over the limit`);

  // A registry may refuse a version of unusual length (this one caps versions to fit a URL segment);
  // below this length a clean publish must go through.
  const ordinary = c.version.length <= 64;
  const undamaged =
    ordinary && c.metadata.kind === 'none' && c.framing.kind === 'none' && crate.mustRefuse === undefined && problems.length === 0;
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
  return c.otherFolder === null && c.manifest.kind === 'valid' && c.extras.length === 0 && c.tar.kind === 'none' && c.gzip.kind === 'none';
}
