import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodePublishBody, parsePublishBody } from '../../src/domain/publish-body.js';
import { metadataFor } from '../support/crate-fixture.js';

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
    const body = encodePublishBody(
      metadataFor('foo', '1.0.0', { deps: [{ name: 'bar', version_req: '^1' }] }),
      Buffer.alloc(0),
    );
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
});
