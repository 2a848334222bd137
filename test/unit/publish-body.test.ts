import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/domain/errors.js';
import { encodePublishBody, METADATA_SHAPE_LIMITS, parsePublishBody } from '../../src/domain/publish-body.js';
import { dependency, metadataFor } from '../support/crate-fixture.js';

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

describe('publish body', () => {
  it('round-trips metadata and crate bytes', () => {
    const crate = Buffer.from([1, 2, 3, 4, 5]);
    const { metadata, crate: out } = parsePublishBody(encodePublishBody(metadataFor('foo', '1.0.0'), crate));
    assert.equal(metadata.name, 'foo');
    assert.equal(metadata.vers, '1.0.0');
    assert.deepEqual(out, crate);
  });

  it('fills the defaults of optional dependency fields', () => {
    const body = encodePublishBody(metadataFor('foo', '1.0.0', { deps: [{ name: 'bar', version_req: '^1' }] }), Buffer.alloc(0));
    const dep = parsePublishBody(body).metadata.deps[0]!;
    assert.deepEqual(
      { features: dep.features, optional: dep.optional, default_features: dep.default_features, target: dep.target, kind: dep.kind },
      { features: [], optional: false, default_features: true, target: null, kind: 'normal' },
    );
  });

  it('reports framing errors precisely', () => {
    assert.throws(() => parsePublishBody(Buffer.from([1, 0])), /expected a 4-byte metadata length at byte 0, but the body has 2 bytes/);
    assert.throws(() => parsePublishBody(Buffer.concat([u32(100), Buffer.from('{}')])), /metadata length is 100 bytes, but only 2 follow/);
    const json = Buffer.from(JSON.stringify(metadataFor('foo', '1.0.0')));
    assert.throws(() => parsePublishBody(Buffer.concat([u32(json.length), json])), /expected a 4-byte crate file length/);
    assert.throws(
      () => parsePublishBody(Buffer.concat([u32(json.length), json, u32(10), Buffer.alloc(3)])),
      /crate file length is 10 bytes, but only 3 follow/,
    );
    assert.throws(
      () => parsePublishBody(Buffer.concat([u32(json.length), json, u32(1), Buffer.alloc(3)])),
      /2 unexpected bytes after the crate file/,
    );
  });

  it('reports bad JSON and missing or mistyped fields by name', () => {
    const raw = (text: string) => Buffer.concat([u32(Buffer.byteLength(text)), Buffer.from(text), u32(0)]);
    assert.throws(() => parsePublishBody(raw('{nope')), /not valid JSON/);
    assert.throws(() => parsePublishBody(raw('[1]')), /must be a JSON object/);
    const { vers: _omit, ...noVersion } = metadataFor('foo', '1.0.0');
    assert.throws(() => parsePublishBody(raw(JSON.stringify(noVersion))), /vers: /);
    assert.throws(() => parsePublishBody(raw(JSON.stringify(metadataFor('foo', '1.0.0', { deps: 'x' })))), /deps: /);
    assert.throws(
      () => parsePublishBody(raw(JSON.stringify(metadataFor('foo', '1.0.0', { deps: [{ name: 'bar' }] })))),
      /deps\.0\.version_req/,
    );
    assert.throws(
      () => parsePublishBody(raw(JSON.stringify(metadataFor('foo', '1.0.0', { deps: [{ name: 'b', version_req: '1', kind: 'weird' }] })))),
      /deps\.0\.kind/,
    );
  });

  it('refuses a NUL character in any text of the metadata, naming where; the six characters `\\u0000` are text', () => {
    const body = (fields: Record<string, unknown>) => encodePublishBody(metadataFor('foo', '1.0.0', fields), Buffer.alloc(0));
    const refused = (fields: Record<string, unknown>, where: string) =>
      assert.throws(
        () => parsePublishBody(body(fields)),
        (error: unknown) =>
          error instanceof RegistryError &&
          error.code === 'invalid-publish-metadata' &&
          error.message === `invalid publish metadata: ${where} contains a NUL character (\\u0000)`,
        where,
      );
    refused({ description: 'one\u0000two' }, 'description');
    refused({ keywords: ['ok', 'n\u0000'] }, 'keywords.1');
    refused({ features: { std: [], 'f\u0000': [] } }, 'features (a key)');
    refused({ features: { std: ['dep/\u0000'] } }, 'features.std.0');
    refused({ deps: [{ name: 'bar', version_req: '^1', features: ['x\u0000'] }] }, 'deps.0.features.0');
    refused({ badges: { ci: { branch: '\u0000' } } }, 'badges.ci.branch');
    const literal = parsePublishBody(body({ description: 'escapes such as \\u0000 in text' })).metadata;
    assert.equal(literal.description, 'escapes such as \\u0000 in text');
  });

  describe('the metadata shape is bounded before JSON.parse', () => {
    const raw = (text: string) => Buffer.concat([u32(Buffer.byteLength(text)), Buffer.from(text), u32(0)]);
    const withBadges = (badges: string) => raw(`{"name":"foo","vers":"1.0.0","deps":[],"badges":${badges}}`);
    const refusal = (body: Buffer, code: string, message: RegExp) =>
      assert.throws(
        () => parsePublishBody(body),
        (error: unknown) =>
          error instanceof RegistryError && error.kind === 'invalid' && error.code === code && message.test(error.message),
      );

    it('refuses metadata nested deeper than the limit, naming it', () => {
      const depth = METADATA_SHAPE_LIMITS.maxDepth;
      assert.equal(parsePublishBody(withBadges('['.repeat(depth - 1) + ']'.repeat(depth - 1))).metadata.name, 'foo');
      refusal(
        withBadges('['.repeat(depth) + ']'.repeat(depth)),
        'json-too-deep',
        new RegExp(`publish metadata nests arrays and objects more than ${depth} levels deep; at most ${depth} are allowed`),
      );
      // A million levels, as an attacker would send: refused, not parsed.
      refusal(withBadges('['.repeat(1_000_000) + ']'.repeat(1_000_000)), 'json-too-deep', /more than 32 levels deep/);
    });

    it('refuses metadata with too many values or keys, naming the limit', () => {
      const values = METADATA_SHAPE_LIMITS.maxValues;
      refusal(
        withBadges(`[${Array(values).fill('[]').join(',')}]`),
        'json-too-many-values',
        new RegExp(`publish metadata has more than ${values} JSON values .*; at most ${values} are allowed`),
      );
      refusal(withBadges(`[${Array(values).fill('0').join(',')}]`), 'json-too-many-values', /more than 100000 JSON values/);
      const keys = METADATA_SHAPE_LIMITS.maxKeys;
      const features = Array.from({ length: keys }, (_, i) => `"f${i}":[]`).join(',');
      refusal(
        raw(`{"name":"foo","vers":"1.0.0","deps":[],"features":{${features}}}`),
        'json-too-many-keys',
        new RegExp(`publish metadata has more than ${keys} object keys; at most ${keys} are allowed`),
      );
    });

    it('counts nothing inside strings: brackets, quotes, escaped quotes and backslashes', () => {
      const depth = METADATA_SHAPE_LIMITS.maxDepth;
      const deep = '['.repeat(depth + 1);
      // After an escaped quote the string goes on: a scanner that ended it there would find `deep`.
      const tricky = [
        deep,
        '{'.repeat(depth + 1),
        `\\"${deep}`,
        '\\\\',
        `\\\\\\"${deep}`,
        ':,'.repeat(METADATA_SHAPE_LIMITS.maxKeys + 1),
        '\\u005b',
      ];
      for (const text of tricky) {
        const json = `{"name":"foo","vers":"1.0.0","deps":[],"description":"${text}","badges":${'['.repeat(depth - 1) + ']'.repeat(depth - 1)}}`;
        const { metadata } = parsePublishBody(raw(json));
        assert.equal(metadata.description, JSON.parse(`"${text}"`), text.slice(0, 20));
      }
      // A string that ends in an escaped backslash closes there: what follows is counted.
      refusal(withBadges(`["\\\\",${'['.repeat(depth) + ']'.repeat(depth)}]`), 'json-too-deep', /levels deep/);
      // Many short strings of brackets count as one value each.
      const strings = Array(1000).fill('"[[[[{{{{"').join(',');
      assert.equal(parsePublishBody(withBadges(`[${strings}]`)).metadata.name, 'foo');
    });

    it('accepts the metadata of a very large real-world crate: 5,000 features, 500 dependencies', () => {
      const features = Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [`Win32_Feature_${i}`, [`Win32_Feature_${i >> 1}`, `dep:d${i % 500}`]]),
      );
      const deps = Array.from({ length: 500 }, (_, i) =>
        dependency(`d${i}`, '^1.2.3', { features: ['std', 'alloc'], optional: true, target: 'cfg(windows)' }),
      );
      const { metadata } = parsePublishBody(
        encodePublishBody(
          metadataFor('big', '1.0.0', { features, deps, badges: { maintenance: { status: 'actively-developed' } } }),
          Buffer.alloc(0),
        ),
      );
      assert.equal(Object.keys(metadata.features).length, 5000);
      assert.deepEqual(metadata.features.Win32_Feature_4999, ['Win32_Feature_2499', 'dep:d499']);
      assert.equal(metadata.deps.length, 500);
    });

    it('names a feature whose value is not a list of strings', () => {
      assert.throws(
        () => parsePublishBody(raw('{"name":"foo","vers":"1.0.0","deps":[],"features":{"std":[],"bad":[1]}}')),
        /features: feature `bad` must be an array of strings/,
      );
      assert.throws(
        () => parsePublishBody(raw('{"name":"foo","vers":"1.0.0","deps":[],"features":[]}')),
        /features: expected an object of feature names/,
      );
    });
  });
});
