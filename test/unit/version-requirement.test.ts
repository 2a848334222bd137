import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesRequirement, parseVersionRequirement, tryParseVersionRequirement } from '../../src/domain/version-requirement.js';
import { parseVersion } from '../../src/domain/version.js';

const matches = (requirement: string, version: string) => matchesRequirement(parseVersionRequirement(requirement), parseVersion(version));

// [requirement, versions it matches, versions it does not], as cargo's semver crate decides.
const CASES: [string, string[], string[]][] = [
  // A bare version is a caret requirement (npm would read `1.2` as 1.2.x only).
  ['1.2', ['1.2.0', '1.2.9', '1.3.0', '1.99.0'], ['1.1.9', '2.0.0', '0.2.0']],
  ['^1.2', ['1.2.0', '1.3.0'], ['1.1.0', '2.0.0']],
  ['1.2.3', ['1.2.3', '1.2.4', '1.9.0'], ['1.2.2', '2.0.0']],
  ['^0.2.3', ['0.2.3', '0.2.9'], ['0.2.2', '0.3.0', '1.0.0']],
  ['^0.2', ['0.2.0', '0.2.99'], ['0.1.9', '0.3.0']],
  ['^0.0.3', ['0.0.3'], ['0.0.4', '0.0.2', '0.1.0']],
  ['^0.0', ['0.0.0', '0.0.9'], ['0.1.0']],
  ['^0', ['0.0.1', '0.9.9'], ['1.0.0']],
  ['0', ['0.5.0'], ['1.0.0']],
  ['~1.2.3', ['1.2.3', '1.2.9'], ['1.3.0', '1.2.2']],
  ['~1.2', ['1.2.0', '1.2.9'], ['1.3.0', '1.1.0']],
  ['~1', ['1.0.0', '1.9.0'], ['2.0.0', '0.9.0']],
  ['=1.2.3', ['1.2.3', '1.2.3+build'], ['1.2.4', '1.2.2']],
  ['=1.2', ['1.2.0', '1.2.7'], ['1.3.0']],
  ['>1.2.3', ['1.2.4', '2.0.0'], ['1.2.3', '1.0.0']],
  ['>1.2', ['1.3.0'], ['1.2.9']],
  ['>=1.2.3', ['1.2.3', '5.0.0'], ['1.2.2']],
  ['>= 0.5.0, < 0.6.0', ['0.5.0', '0.5.9'], ['0.6.0', '0.4.9']],
  ['<1.2.3', ['1.2.2', '0.1.0'], ['1.2.3', '1.3.0']],
  ['<1.2', ['1.1.9'], ['1.2.0', '1.2.5']],
  ['<=1.2', ['1.2.0', '1.2.9', '1.1.0'], ['1.3.0']],
  ['<= 1.2.3', ['1.2.3'], ['1.2.4']],
  ['1.*', ['1.0.0', '1.9.9'], ['2.0.0', '0.9.0']],
  ['1.2.*', ['1.2.0', '1.2.9'], ['1.3.0']],
  ['*', ['0.0.1', '99.0.0'], ['1.0.0-alpha']],
  // Pre-releases match only a comparator that names a pre-release of the same x.y.z.
  ['>=1.2.3', [], ['1.3.0-alpha', '1.2.3-rc.1']],
  ['>=1.2.3-alpha', ['1.2.3-alpha', '1.2.3-beta', '1.2.3', '1.3.0'], ['1.2.3-0', '1.3.0-alpha', '1.2.2']],
  ['^1.2.3-beta.2', ['1.2.3-beta.2', '1.2.3-beta.10', '1.2.3', '1.9.0'], ['1.2.3-beta.1', '1.2.3-alpha', '1.2.4-beta', '2.0.0']],
  ['<2.0.0', ['1.9.9'], ['2.0.0-alpha']],
  ['<2.0.0-beta', ['2.0.0-alpha', '1.0.0'], ['2.0.0-beta', '2.0.0']],
  ['=1.0.0-rc.1', ['1.0.0-rc.1'], ['1.0.0', '1.0.0-rc.2']],
  ['~1.2.3-alpha', ['1.2.3-alpha', '1.2.3-beta', '1.2.5'], ['1.2.4-alpha', '1.3.0']],
];

describe('cargo version requirements', () => {
  for (const [requirement, yes, no] of CASES) {
    it(`\`${requirement}\``, () => {
      for (const v of yes) assert.equal(matches(requirement, v), true, `${requirement} should match ${v}`);
      for (const v of no) assert.equal(matches(requirement, v), false, `${requirement} should not match ${v}`);
    });
  }

  it('reads `1.2` as `^1.2`, not as npm would', () => {
    for (const v of ['1.2.0', '1.5.0', '2.0.0', '1.1.0']) assert.equal(matches('1.2', v), matches('^1.2', v), v);
    assert.equal(matches('1.2', '1.5.0'), true);
  });

  it('refuses what cargo refuses', () => {
    for (const raw of ['', ' ', 'latest', '1.2.3.4', '>=', '01.2', '1.2-alpha', '*.1', '1.*.3', '>=1.2,', 'v1.2.3', '1.2.3-', '>> 1']) {
      assert.equal(tryParseVersionRequirement(raw), undefined, `\`${raw}\``);
    }
    assert.throws(
      () => parseVersionRequirement('latest'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'invalid-version-requirement');
        assert.match(e.message, /`latest` is not a cargo version requirement/);
        return true;
      },
    );
  });
});
