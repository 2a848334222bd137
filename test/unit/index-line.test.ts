import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPubtime, renderIndexFile, renderIndexLine, splitFeatures, type IndexEntry } from '../../src/domain/index-line.js';

const entry: IndexEntry = {
  name: 'Foo',
  vers: '1.0.0+build',
  deps: [
    {
      name: 'alias',
      req: '^1',
      features: ['x'],
      optional: true,
      default_features: false,
      target: 'cfg(unix)',
      kind: 'normal',
      registry: null,
      package: 'real',
    },
    {
      name: 'serde',
      req: '^1',
      features: [],
      optional: false,
      default_features: true,
      target: null,
      kind: 'dev',
      registry: 'https://github.com/rust-lang/crates.io-index',
      package: null,
    },
  ],
  cksum: 'a'.repeat(64),
  features: { default: ['std'] },
  features2: null,
  links: null,
  rust_version: '1.70',
  pubtime: '2026-01-02T03:04:05Z',
};

describe('index lines', () => {
  it('render cargo fields in a fixed order, omitting empty optional ones', () => {
    assert.equal(
      renderIndexLine(entry, false),
      '{"name":"Foo","vers":"1.0.0+build","deps":[' +
        '{"name":"alias","req":"^1","features":["x"],"optional":true,"default_features":false,"target":"cfg(unix)","kind":"normal","package":"real"},' +
        '{"name":"serde","req":"^1","features":[],"optional":false,"default_features":true,"target":null,"kind":"dev","registry":"https://github.com/rust-lang/crates.io-index"}],' +
        `"cksum":"${'a'.repeat(64)}","features":{"default":["std"]},"yanked":false,"rust_version":"1.70","pubtime":"2026-01-02T03:04:05Z"}`,
    );
  });

  it('mark features2 with v: 2', () => {
    const line = JSON.parse(renderIndexLine({ ...entry, features2: { tls: ['dep:rustls'] } }, true));
    assert.equal(line.v, 2);
    assert.equal(line.yanked, true);
    assert.deepEqual(line.features2, { tls: ['dep:rustls'] });
  });

  it('put dep: and ?/ features into features2', () => {
    assert.deepEqual(splitFeatures({ a: ['b'], tls: ['dep:rustls'], s: ['serde?/std'] }), {
      features: { a: ['b'] },
      features2: { tls: ['dep:rustls'], s: ['serde?/std'] },
    });
    assert.deepEqual(splitFeatures({ a: [] }), { features: { a: [] }, features2: null });
  });

  it('render a file as one line per version, newline-terminated', () => {
    const file = renderIndexFile([
      { entry, yanked: false },
      { entry: { ...entry, vers: '2.0.0' }, yanked: true },
    ]);
    const lines = file.split('\n');
    assert.equal(lines.length, 3);
    assert.equal(lines[2], '');
    assert.equal(JSON.parse(lines[1]!).yanked, true);
  });

  it('formats pubtime at second resolution', () => {
    assert.equal(formatPubtime(new Date('2026-11-23T06:01:02.345Z')), '2026-11-23T06:01:02Z');
  });
});
