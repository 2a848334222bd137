// Fuzzes the publish body framing and metadata parser, and index-line rendering: any bytes give
// the parsed body or a typed refusal (never another exception); a body cargo would build parses
// back to what was sent (or, for a feature named `__proto__`, is refused by name, never trimmed); an index line is one line of JSON that says what the entry says, whatever
// strings it carries (newlines, U+2028, control characters, lone surrogates).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RegistryError } from '../../src/domain/errors.js';
import { renderIndexFile, renderIndexLine, splitFeatures, type IndexDependency, type IndexEntry } from '../../src/domain/index-line.js';
import { encodePublishBody, parsePublishBody, parsePublishMetadata } from '../../src/domain/publish-body.js';
import { pathOfNul } from '../../src/domain/text.js';
import { dependency, metadataFor } from '../support/crate-fixture.js';
import { checkProperty } from '@cratekeeper/test-support/fuzz-check';

const file = import.meta.url;

function expectTypedRefusal(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RegistryError, `threw ${String(error)}`);
    assert.ok(['invalid', 'too-large'].includes(error.kind), error.kind);
    assert.ok(error.message.length > 0);
  }
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

const text = fc.string({ unit: 'binary', maxLength: 30 });
const feature = fc.string({ maxLength: 12 }).filter((f) => f !== '__proto__');
/** Feature names as cargo allows them, `__proto__` included (a valid cargo feature name). */
const featureName = fc.oneof({ weight: 9, arbitrary: feature }, { weight: 1, arbitrary: fc.constant('__proto__') });
const featureValues = fc.array(
  fc.oneof(
    feature,
    feature.map((f) => `dep:${f}`),
    feature.map((f) => `x?/${f}`),
  ),
  { maxLength: 3 },
);

describe('fuzz: publish body and index lines', () => {
  it('any bytes: parsed or refused with a typed error', async () => {
    // Mostly framed bodies with random lengths and contents, so the parser gets past the first check.
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc
        .tuple(
          fc.nat({ max: 80 }),
          fc.oneof(fc.json(), fc.string({ unit: 'binary', maxLength: 60 })),
          fc.nat({ max: 40 }),
          fc.uint8Array({ maxLength: 40 }),
        )
        .map(([jsonLength, json, crateLength, crate]) => Buffer.concat([u32(jsonLength), Buffer.from(json), u32(crateLength), crate])),
    );
    await checkProperty(
      fc.property(body, fc.constantFrom(Infinity, 0, 16, 1024), (bytes, maxMetadataBytes) => {
        expectTypedRefusal(() => parsePublishBody(bytes, { maxMetadataBytes }));
      }),
      { runs: 5000, file, name: 'any bytes' },
    );
  });

  it('any JSON: metadata parsed or refused with a typed error naming the field', async () => {
    const json = fc.oneof(
      fc.json({ maxDepth: 4 }),
      fc
        .record({
          name: fc.jsonValue({ maxDepth: 2 }),
          vers: fc.jsonValue({ maxDepth: 2 }),
          deps: fc.jsonValue({ maxDepth: 3 }),
          features: fc.jsonValue({ maxDepth: 3 }),
        })
        .map((o) => JSON.stringify(o)),
      fc.constantFrom(
        '{"__proto__":{"deps":[]},"name":"a","vers":"1.0.0"}',
        '{"name":"a","vers":"1.0.0","deps":[],"constructor":{"prototype":{"x":1}}}',
      ),
    );
    await checkProperty(
      fc.property(json, (input) => {
        expectTypedRefusal(() => parsePublishMetadata(input));
        assert.equal(({} as Record<string, unknown>).deps, undefined, 'Object.prototype changed');
        assert.equal(({} as Record<string, unknown>).x, undefined, 'Object.prototype changed');
      }),
      { runs: 3000, file, name: 'any JSON' },
    );
  });

  it('a body built as cargo builds it parses back to what was sent', async () => {
    const dep = fc.record({
      name: fc.string({ minLength: 1, maxLength: 10 }),
      req: fc.string({ minLength: 1, maxLength: 10 }),
      kind: fc.constantFrom('normal', 'dev', 'build'),
      optional: fc.boolean(),
    });
    const metadata = fc.record({
      name: text,
      vers: text,
      deps: fc.array(dep, { maxLength: 3 }).map((ds) => ds.map((d) => dependency(d.name, d.req, { kind: d.kind, optional: d.optional }))),
      features: fc.dictionary(featureName, featureValues, { maxKeys: 3 }),
      description: fc.option(text),
      readme: fc.option(fc.string({ maxLength: 200 })),
    });
    await checkProperty(
      fc.property(metadata, fc.uint8Array({ maxLength: 200 }), (m, crate) => {
        const sent = metadataFor(m.name, m.vers, m);
        const body = encodePublishBody(sent, Buffer.from(crate));
        if (Object.prototype.hasOwnProperty.call(m.features, '__proto__')) {
          // Refused by name rather than dropped without a word (as a record would drop it).
          assert.throws(
            () => parsePublishBody(body),
            (e: unknown) => e instanceof RegistryError && /features\.__proto__/.test(e.message),
          );
          return;
        }
        if (pathOfNul(sent) !== undefined) {
          // No store keeps a NUL (PostgreSQL cannot): refused, naming where.
          assert.throws(
            () => parsePublishBody(body),
            (e: unknown) => e instanceof RegistryError && /: \S.* contains a NUL character/.test(e.message),
          );
          return;
        }
        const parsed = parsePublishBody(body);
        assert.deepEqual(Buffer.from(parsed.crate), Buffer.from(crate));
        assert.equal(parsed.metadata.name, m.name);
        assert.equal(parsed.metadata.vers, m.vers);
        assert.deepEqual({ ...parsed.metadata.features }, { ...m.features });
        assert.deepEqual(
          parsed.metadata.deps.map((d) => [d.name, d.version_req, d.kind, d.optional]),
          m.deps.map((d) => [d.name, d.version_req, d.kind, d.optional]),
        );
        assert.equal(parsed.metadata.readme ?? null, m.readme);
      }),
      { runs: 2000, file, name: 'a body built as cargo builds it' },
    );
  });

  it('an index line is one line of JSON that says what the entry says', async () => {
    const dependencyArb: fc.Arbitrary<IndexDependency> = fc.record({
      name: text,
      req: text,
      features: fc.array(text, { maxLength: 2 }),
      optional: fc.boolean(),
      default_features: fc.boolean(),
      target: fc.option(text),
      kind: fc.constantFrom('normal', 'dev', 'build'),
      registry: fc.option(text),
      package: fc.option(text),
    });
    const entryArb = fc.record({
      name: text,
      vers: text,
      deps: fc.array(dependencyArb, { maxLength: 3 }),
      cksum: fc.string({ minLength: 64, maxLength: 64, unit: fc.constantFrom(...'0123456789abcdef') }),
      features: fc.dictionary(feature, featureValues, { maxKeys: 4 }),
      links: fc.option(text),
      rust_version: fc.option(text),
      pubtime: fc.option(fc.constantFrom('2026-01-02T03:04:05Z')),
    });
    await checkProperty(
      fc.property(fc.array(fc.tuple(entryArb, fc.boolean()), { minLength: 1, maxLength: 3 }), (entries) => {
        const indexEntries = entries.map(([raw, yanked]) => ({ entry: { ...raw, ...splitFeatures(raw.features) } as IndexEntry, yanked }));
        const file = renderIndexFile(indexEntries);
        const lines = file.split('\n');
        assert.equal(lines.pop(), '', 'the file ends with a newline');
        assert.equal(lines.length, entries.length, 'one line per version');
        for (const [i, { entry, yanked }] of indexEntries.entries()) {
          assert.equal(lines[i], renderIndexLine(entry, yanked));
          const line = JSON.parse(lines[i]!) as Record<string, unknown>;
          assert.equal(line.name, entry.name);
          assert.equal(line.vers, entry.vers);
          assert.equal(line.cksum, entry.cksum);
          assert.equal(line.yanked, yanked);
          // Every feature lands in exactly one of the two maps, the newer syntax in features2 (v: 2).
          const all = { ...(line.features as object), ...((line.features2 as object | undefined) ?? {}) };
          assert.deepEqual(all, { ...entries[i]![0].features });
          assert.equal(line.v === 2, line.features2 !== undefined);
          for (const [d, dep] of entry.deps.entries()) {
            const rendered = (line.deps as Array<Record<string, unknown>>)[d]!;
            assert.equal(rendered.name, dep.name);
            assert.equal(rendered.req, dep.req);
            assert.equal('registry' in rendered, dep.registry !== null);
            assert.equal('package' in rendered, dep.package !== null);
          }
        }
      }),
      { runs: 2000, file, name: 'an index line is one line of JSON' },
    );
  });
});
