// Who an OpenID provider's identity is authorized as: `authorized_users` match the `sub` and an
// e-mail the provider verified, never an unverified e-mail nor the names people choose themselves
// (`preferred_username`, `nickname`); login names never come from an unverified e-mail either.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OidcIdentity } from '../../src/auth/oidc-client.js';
import { OidcUsers, loginNameFrom } from '../../src/auth/oidc-users.js';
import type { OidcConfig } from '../../src/config/oidc-schema.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';

const settings = (authorized_users: string[], authorized_groups: string[] = []): OidcConfig => ({
  issuer_url: 'https://idp.example',
  client_id: 'cratekeeper',
  client_secret: 'secret',
  additional_scopes: [],
  groups_claim: 'groups',
  timeout_ms: 5000,
  authorized_groups,
  authorized_users,
});

const identity = (subject: string, claims: Record<string, unknown>): OidcIdentity => ({
  issuer: 'https://idp.example',
  subject,
  claims: { sub: subject, ...claims },
});

const users = (authorized: string[], groups: string[] = []) => new OidcUsers({} as MetadataDatabase, settings(authorized, groups));

describe('OIDC authorized users', () => {
  it('matches the sub', () => {
    users(['1001']).assertAuthorized(identity('1001', {}), []);
  });

  it('matches an e-mail only when the provider verified it (ignoring case)', () => {
    const u = users(['Ops@Example.com']);
    u.assertAuthorized(identity('7', { email: 'ops@example.COM', email_verified: true }), []);
    u.assertAuthorized(identity('8', { email: 'ops@example.com', email_verified: 'true' }), []);
    for (const verified of [false, undefined, 'false', 1]) {
      assert.throws(
        () => u.assertAuthorized(identity('9', { email: 'ops@example.com', email_verified: verified }), []),
        /may not sign in to this registry: groups at the provider: none; not one of the authorized users either \(matched by sub, here 9, or by a verified e-mail: the provider did not verify ops@example.com\)/,
        `email_verified = ${String(verified)}`,
      );
    }
  });

  it('never matches preferred_username or nickname, which people choose themselves', () => {
    const u = users(['root', 'ops@example.com']);
    for (const claims of [
      { preferred_username: 'root' },
      { nickname: 'root' },
      { preferred_username: 'ops@example.com' },
      { nickname: 'ops@example.com' },
    ]) {
      assert.throws(() => u.assertAuthorized(identity('42', claims), []), /may not sign in to this registry/, JSON.stringify(claims));
    }
  });

  it('groups still authorize; with both lists empty everyone does', () => {
    users(['1001'], ['devs']).assertAuthorized(identity('5', {}), ['devs']);
    users([]).assertAuthorized(identity('5', { email: 'x@y.z', email_verified: false }), []);
  });

  it('takes a login name from a verified e-mail only', () => {
    assert.equal(loginNameFrom(identity('1', { email: 'alice@example.com', email_verified: true })), 'alice');
    assert.equal(loginNameFrom(identity('1', { email: 'alice@example.com', email_verified: false })), 'user');
    assert.equal(loginNameFrom(identity('1', { preferred_username: 'al', email: 'alice@example.com' })), 'al');
  });
});
