import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesAnyCratePattern, matchesCratePattern, parseCratePattern } from '../../src/domain/crate-pattern.js';
import { parseTokenScopes } from '../../src/domain/token-scope.js';

describe('crate patterns', () => {
  it('match exact names and prefixes, as crate names compare', () => {
    const foo = parseCratePattern('foo-*');
    assert.ok(matchesCratePattern(foo, 'foo-bar'));
    assert.ok(matchesCratePattern(foo, 'Foo_Bar'));
    assert.ok(!matchesCratePattern(foo, 'foobar'));
    assert.ok(!matchesCratePattern(foo, 'bar-foo-x'));
    const exact = parseCratePattern('serde');
    assert.ok(matchesCratePattern(exact, 'Serde'));
    assert.ok(!matchesCratePattern(exact, 'serde_json'));
    assert.ok(matchesAnyCratePattern([exact, parseCratePattern('*')], 'anything'));
  });

  it('refuse what is not a pattern', () => {
    for (const bad of ['', 'a*b', '**', 'foo bar', 'x'.repeat(66), 'a.b']) {
      assert.throws(() => parseCratePattern(bad), /is not a crate pattern/, bad);
    }
  });
});

describe('token scopes', () => {
  it('accept the six scopes and refuse others by name', () => {
    assert.deepEqual(parseTokenScopes(['read', 'yank', 'read']), ['read', 'yank']);
    assert.deepEqual(parseTokenScopes(['admin']), ['admin']);
    assert.throws(
      () => parseTokenScopes(['read', 'root']),
      /unknown token scope `root`; the scopes are read, publish-new, publish-update, yank, change-owners, admin/,
    );
    assert.throws(() => parseTokenScopes([]), /at least one scope/);
  });
});
