// When `serve` says that no administrator can sign in: only when users exist and every admin lacks a
// password, a linked OpenID identity (with OpenID configured) and a token that may sign in.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findAdminLockout } from '../../src/services/admin-access.js';
import type { UserSummary } from '../../src/ports/catalog.js';
import type { TokenRecord } from '../../src/ports/tokens.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');

function user(login: string, isAdmin: boolean, extra: Partial<UserSummary> = {}): UserSummary {
  return { id: login.length, login, isAdmin, createdAt: '', groups: [], hasPassword: false, identities: [], activeTokens: 0, ...extra };
}

function token(extra: Partial<TokenRecord> = {}): TokenRecord {
  const base = { id: 1, userId: 0, name: 'cli', createdAt: '', lastUsedAt: null, expiresAt: null, revokedAt: null };
  return { ...base, scopes: null, cratePatterns: null, origin: null, ...extra };
}

function lockout(users: UserSummary[], tokens: TokenRecord[], oidcConfigured = false) {
  return findAdminLockout(
    { catalog: { users: async () => users }, tokens: { listTokens: async () => tokens } },
    { oidcConfigured, now: () => NOW },
  );
}

describe('admin lockout', () => {
  it('is not reported on an empty registry, nor when an admin has a password, an identity with OpenID, or a full token', async () => {
    assert.equal(await lockout([], []), undefined);
    assert.equal(await lockout([user('root', true, { hasPassword: true })], []), undefined);
    assert.equal(await lockout([user('root', true, { identities: ['https://idp x'] })], [], true), undefined);
    assert.equal(await lockout([user('root', true)], [token()]), undefined);
  });

  it('is reported when no admin has a way in, naming the admins', async () => {
    assert.deepEqual(await lockout([user('alice', false, { hasPassword: true })], []), { admins: [] });
    assert.deepEqual(await lockout([user('root', true, { identities: ['https://idp x'] })], [], false), { admins: ['root'] });
    const useless = [
      token({ revokedAt: '2026-01-01T00:00:00Z' }),
      token({ expiresAt: '2026-05-31T00:00:00Z' }),
      token({ scopes: ['read', 'admin'] }),
      token({ cratePatterns: ['foo-*'] }),
    ];
    assert.deepEqual(await lockout([user('root', true), user('bob', false)], useless), { admins: ['root'] });
  });
});
