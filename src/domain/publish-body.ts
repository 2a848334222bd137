// The body of `PUT /api/v1/crates/new`: u32 LE JSON length, JSON metadata, u32 LE crate length,
// the .crate bytes. Parsing checks the framing and the metadata's shape; it throws `invalid` with a
// message that names the offending field. The metadata's shape is bounded before it is parsed
// (json-shape.ts), since JSON.parse runs on the event loop.

import { z } from 'zod';
import { invalid, tooLarge } from './errors.js';
import { assertJsonShape, type JsonShapeLimits } from './json-shape.js';
import { containsNul, pathOfNul } from './text.js';

/**
 * What JSON.parse of the metadata may cost. Measured on 2 shared cores under load, the costliest
 * shapes allowed take 15 to 25 ms of CPU from JSON.parse through the schema check: 16,000 feature
 * names in one object, or 100,000 small values (empty arrays or objects, numbers). Real
 * metadata nests 3 levels (`deps[].features[]`), and even a very large crate stays well inside
 * the counts: 5,000 features and 500 dependencies make about 31,000 values and 9,500 keys.
 * (crates.io allows 300 features per crate unless it raises the limit for one, as for `windows`;
 * these bounds are about CPU time on the event loop, not about what a crate should have.)
 */
export const METADATA_SHAPE_LIMITS: JsonShapeLimits = { maxDepth: 32, maxValues: 100_000, maxKeys: 16_000 };

const dependencySchema = z.object({
  name: z.string().min(1),
  version_req: z.string().min(1),
  features: z.array(z.string()).default([]),
  optional: z.boolean().default(false),
  default_features: z.boolean().default(true),
  target: z.string().nullable().default(null),
  kind: z.enum(['normal', 'dev', 'build']).default('normal'),
  registry: z.string().nullish(),
  explicit_name_in_toml: z.string().nullish(),
});

const optionalText = z.string().nullish();

/** The first feature whose value is not an array of strings, or why the whole value is wrong. */
function featureMapProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected an object of feature names';
  for (const feature of Object.keys(value)) {
    const enables: unknown = (value as Record<string, unknown>)[feature];
    if (!Array.isArray(enables) || !enables.every((item) => typeof item === 'string')) {
      return `feature \`${feature}\` must be an array of strings`;
    }
  }
  return undefined;
}

// Checked by hand, not with z.record: that copies every key, which for tens of thousands of
// features costs more than JSON.parse of them.
const featureMap = z.custom<Record<string, string[]>>((value) => featureMapProblem(value) === undefined, {
  error: (issue) => featureMapProblem(issue.input) ?? 'invalid features',
});

const metadataSchema = z.object({
  name: z.string(),
  vers: z.string(),
  deps: z.array(dependencySchema),
  features: featureMap.default({}),
  authors: z.array(z.string()).nullish(),
  description: optionalText,
  documentation: optionalText,
  homepage: optionalText,
  readme: optionalText,
  readme_file: optionalText,
  keywords: z.array(z.string()).nullish(),
  categories: z.array(z.string()).nullish(),
  license: optionalText,
  license_file: optionalText,
  repository: optionalText,
  badges: z.unknown().optional(),
  links: optionalText,
  rust_version: optionalText,
});

export type PublishDependency = z.infer<typeof dependencySchema>;
export type PublishMetadata = z.infer<typeof metadataSchema>;

export interface PublishBody {
  metadata: PublishMetadata;
  crate: Buffer;
}

function readLength(body: Buffer, offset: number, what: string): number {
  if (body.length < offset + 4) {
    throw invalid(
      'invalid-publish-body',
      `the publish body is truncated: expected a 4-byte ${what} length at byte ${offset}, but the body has ${body.length} bytes`,
    );
  }
  return body.readUInt32LE(offset);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(top level)';
  return `${path}: ${issue.message}`;
}

export function parsePublishMetadata(json: string): PublishMetadata {
  assertJsonShape(json, METADATA_SHAPE_LIMITS, 'the publish metadata');
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (error) {
    throw invalid('invalid-publish-metadata', `the publish metadata is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid('invalid-publish-metadata', 'the publish metadata must be a JSON object');
  }
  // A record drops a `__proto__` key without a word (setting it would set the prototype). Cargo
  // allows a feature of that name; losing it silently would break every crate that enables it.
  const features = (raw as { features?: unknown }).features;
  if (typeof features === 'object' && features !== null && Object.prototype.hasOwnProperty.call(features, '__proto__')) {
    throw invalid(
      'invalid-publish-metadata',
      'invalid publish metadata: features.__proto__: this registry cannot store a feature named `__proto__`; rename it',
    );
  }
  // JSON can carry a NUL only escaped: the walk for where runs only when the text has one.
  const nulAt = json.includes('\\u0000') ? pathOfNul(raw) : undefined;
  if (nulAt !== undefined) throw invalid('invalid-publish-metadata', `invalid publish metadata: ${containsNul(nulAt)}`);
  const parsed = metadataSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(describeIssue).join('; ');
    throw invalid('invalid-publish-metadata', `invalid publish metadata: ${problems}`);
  }
  return parsed.data;
}

export interface PublishBodyLimits {
  /** Largest JSON metadata accepted (it is parsed on the event loop). */
  maxMetadataBytes: number;
}

export function parsePublishBody(body: Buffer, limits: PublishBodyLimits = { maxMetadataBytes: Infinity }): PublishBody {
  const jsonLength = readLength(body, 0, 'metadata');
  if (jsonLength > limits.maxMetadataBytes && 4 + jsonLength <= body.length) {
    throw tooLarge(
      'publish-metadata-too-large',
      `the publish metadata is ${jsonLength} bytes; this registry accepts at most ${limits.maxMetadataBytes} (publish.max_metadata_size)`,
    );
  }
  if (4 + jsonLength > body.length) {
    throw invalid(
      'invalid-publish-body',
      `the publish body is truncated: its metadata length is ${jsonLength} bytes, but only ${body.length - 4} follow`,
    );
  }
  const metadata = parsePublishMetadata(body.subarray(4, 4 + jsonLength).toString('utf8'));
  const crateOffset = 4 + jsonLength;
  const crateLength = readLength(body, crateOffset, 'crate file');
  const available = body.length - crateOffset - 4;
  if (crateLength > available) {
    throw invalid(
      'invalid-publish-body',
      `the publish body is truncated: its crate file length is ${crateLength} bytes, but only ${available} follow`,
    );
  }
  if (crateLength < available) {
    throw invalid('invalid-publish-body', `the publish body has ${available - crateLength} unexpected bytes after the crate file`);
  }
  return { metadata, crate: body.subarray(crateOffset + 4) };
}

/** Builds a publish body, as cargo does (used by tests and benchmarks). */
export function encodePublishBody(metadata: unknown, crate: Buffer): Buffer {
  const json = Buffer.from(JSON.stringify(metadata), 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32LE(json.length);
  const mid = Buffer.alloc(4);
  mid.writeUInt32LE(crate.length);
  return Buffer.concat([head, json, mid, crate]);
}
