// Token permissions on their own: a scoped token does only what its scopes name, crate patterns
// limit what it may change (not what it may read), an unrestricted token has every scope including
// `admin`, and the administration API wants an administrator's token that is not narrowed at all.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertAdminToken, assertTokenAllows, hasScope } from '../../src/auth/token-permissions.js';
import { RegistryError } from '../../src/domain/errors.js';
import { TOKEN_SCOPES } from '../../src/domain/token-scope.js';
import type { TokenPrincipal } from '../../src/ports/tokens.js';

function token(limits: Partial<TokenPrincipal> = {}): TokenPrincipal {
  return {
    tokenId: 7,
    userId: 3,
    login: 'alice',
    isAdmin: false,
    expiresAt: null,
    scopes: null,
    cratePatterns: null,
    groups: [],
    origin: null,
    ...limits,
  };
}

function refusalOf(fn: () => void): RegistryError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RegistryError, String(error));
    assert.equal(error.kind, 'forbidden');
    return error;
  }
  return assert.fail('expected a refusal');
}

describe('token permissions', () => {
  it('an unrestricted token has every scope, `admin` included', () => {
    for (const scope of TOKEN_SCOPES) assert.equal(hasScope(token(), scope), true, scope);
  });

  it('a scoped token has exactly the scopes it names', () => {
    const readOnly = token({ scopes: ['read'] });
    for (const scope of TOKEN_SCOPES) assert.equal(hasScope(readOnly, scope), scope === 'read', scope);
    const publisher = token({ scopes: ['read', 'publish-update'] });
    assert.equal(hasScope(publisher, 'publish-update'), true);
    assert.equal(hasScope(publisher, 'publish-new'), false);
  });

  it('assertTokenAllows refuses a missing scope, naming it and the scopes the token has', () => {
    const refusal = refusalOf(() => assertTokenAllows(token({ scopes: ['read', 'yank'] }), 'publish-new', 'foo'));
    assert.equal(refusal.code, 'token-scope-missing');
    assert.match(refusal.message, /lacks the `publish-new` scope \(it has: read, yank\)/);
    assertTokenAllows(token({ scopes: ['read', 'yank'] }), 'yank', 'foo');
  });

  it('crate patterns limit the crates a token may change', () => {
    const ci = token({ cratePatterns: ['foo-*', 'bar'] });
    assertTokenAllows(ci, 'publish-update', 'foo-core');
    assertTokenAllows(ci, 'publish-update', 'Foo_Core');
    assertTokenAllows(ci, 'yank', 'bar');
    const refusal = refusalOf(() => assertTokenAllows(ci, 'publish-update', 'barn'));
    assert.equal(refusal.code, 'token-crate-pattern');
    assert.match(refusal.message, /limited to crates matching `foo-\*`, `bar`, and `barn` is not one of them/);
    assert.equal(refusalOf(() => assertTokenAllows(ci, 'yank', 'foo')).code, 'token-crate-pattern', '`foo-*` does not cover `foo`');
  });

  it('the scope is checked before the crate: a read-only pattern token may not publish even its own crates', () => {
    const refusal = refusalOf(() => assertTokenAllows(token({ scopes: ['read'], cratePatterns: ['foo-*'] }), 'publish-new', 'foo-x'));
    assert.equal(refusal.code, 'token-scope-missing');
  });

  it('without a crate name only the scope counts (crate patterns do not limit reading)', () => {
    assertTokenAllows(token({ scopes: ['read'], cratePatterns: ['foo-*'] }), 'read');
    assert.equal(refusalOf(() => assertTokenAllows(token({ scopes: ['yank'] }), 'read')).code, 'token-scope-missing');
  });

  it("assertAdminToken accepts an administrator's unrestricted token, or one with the `admin` scope", () => {
    assertAdminToken(token({ isAdmin: true }), 'read the audit log');
    assertAdminToken(token({ isAdmin: true, scopes: ['admin'] }), 'read the audit log');
  });

  it('assertAdminToken refuses a non-administrator, even with an unrestricted token', () => {
    const refusal = refusalOf(() => assertAdminToken(token(), 'read the audit log'));
    assert.equal(refusal.code, 'admin-only');
    assert.equal(refusal.message, 'only administrators may read the audit log');
    assert.equal(refusalOf(() => assertAdminToken(token({ scopes: ['admin'] }), 'x')).code, 'admin-only');
  });

  it("assertAdminToken refuses an administrator's narrowed token: without `admin`, or with crate patterns", () => {
    const withoutAdmin = token({ isAdmin: true, scopes: TOKEN_SCOPES.filter((s) => s !== 'admin') });
    assert.equal(refusalOf(() => assertAdminToken(withoutAdmin, 'x')).code, 'token-scope-missing');
    const withPatterns = token({ isAdmin: true, scopes: ['admin'], cratePatterns: ['*'] });
    assert.equal(refusalOf(() => assertAdminToken(withPatterns, 'x')).code, 'token-scope-missing');
    const unscopedWithPatterns = token({ isAdmin: true, cratePatterns: ['foo-*'] });
    assert.match(refusalOf(() => assertAdminToken(unscopedWithPatterns, 'x')).message, /needs a token with the `admin` scope/);
  });
});
