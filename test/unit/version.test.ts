import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareVersions, parseVersion, tryParseVersion, versionKey } from '../../src/domain/version.js';

describe('versions', () => {
  it('accepts SemVer 2.0 versions', () => {
    for (const v of ['0.0.0', '1.2.3', '1.0.0-alpha.1', '1.0.0-0.3.7', '1.0.0+build.5', '1.0.0-rc.1+exp.sha.5114f85', '10.20.30']) {
      assert.equal(parseVersion(v).raw, v);
    }
  });

  it('rejects what is not SemVer', () => {
    for (const v of ['1', '1.2', 'v1.2.3', '01.2.3', '1.2.3-01', '1.2.3-', '1.2.3+', '1.2.3 ', ' 1.2.3', '1.2.3.4', 'latest']) {
      assert.equal(tryParseVersion(v), undefined, v);
    }
    assert.throws(() => parseVersion('1.2'), /`1.2` is not a valid semantic version/);
    assert.throws(() => parseVersion(undefined), /missing or empty/);
  });

  it('keys versions without build metadata', () => {
    assert.equal(versionKey(parseVersion('1.0.7+x')), '1.0.7');
    assert.equal(versionKey(parseVersion('1.0.7-rc.1+x')), '1.0.7-rc.1');
    assert.equal(versionKey(parseVersion('1.0.7')), '1.0.7');
  });

  it('orders by SemVer precedence', () => {
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
      '1.0.1',
      '1.10.0',
      '2.0.0',
    ];
    for (let i = 0; i + 1 < order.length; i++) {
      assert.equal(compareVersions(parseVersion(order[i]!), parseVersion(order[i + 1]!)), -1, `${order[i]} < ${order[i + 1]}`);
      assert.equal(compareVersions(parseVersion(order[i + 1]!), parseVersion(order[i]!)), 1);
    }
    assert.equal(compareVersions(parseVersion('1.0.0+a'), parseVersion('1.0.0+b')), 0);
  });
});
