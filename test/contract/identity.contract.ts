// The identity repositories' contract: users (accounts, passwords, provider identities), groups,
// the ID-token replay records and the shared server secrets. One suite that SQLite and PostgreSQL
// must pass unchanged (metadata-repositories-*.test.ts); each test opens a fresh, empty database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';
import { rejectsWith } from './repository-fixtures.js';

export function identityContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`identity repositories contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    describe('users', () => {
      it('creates, finds and counts users', async () => {
        const db = await fresh();
        assert.equal(await db.users.countUsers(), 0);
        const alice = await db.users.createUser('alice', true);
        const bob = await db.users.createUser('bob', false);
        assert.deepEqual([alice.login, alice.isAdmin, bob.login, bob.isAdmin], ['alice', true, 'bob', false]);
        assert.notEqual(alice.id, bob.id);
        assert.ok(!Number.isNaN(Date.parse(alice.createdAt)));
        assert.deepEqual(await db.users.findUserByLogin('alice'), alice);
        assert.equal(await db.users.findUserByLogin('carol'), undefined);
        assert.equal(await db.users.countUsers(), 2);
      });

      it('refuses a second user with the same login', async () => {
        const db = await fresh();
        await db.users.createUser('alice', false);
        await rejectsWith(db.users.createUser('alice', true), 'conflict', 'user-exists');
        assert.equal(await db.users.countUsers(), 1);
      });
    });

    describe('passwords, provider identities and groups', () => {
      it('stores, finds and removes password hashes', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        assert.equal(await db.users.anyPasswordSet(), false);
        assert.deepEqual(await db.users.findPasswordHash('alice'), { user: alice, passwordHash: null });
        await db.users.setPasswordHash(alice.id, '$argon2id$fake');
        assert.equal(await db.users.anyPasswordSet(), true);
        assert.equal((await db.users.findPasswordHash('alice'))?.passwordHash, '$argon2id$fake');
        assert.equal(await db.users.findPasswordHash('nobody'), undefined);
        await db.users.setPasswordHash(alice.id, null);
        assert.equal(await db.users.anyPasswordSet(), false);
      });

      it('creates users linked to a provider identity, keyed by (issuer, sub)', async () => {
        const db = await fresh();
        const alice = await db.users.createUserWithIdentity('alice', 'https://idp', 'sub-1');
        assert.deepEqual(await db.users.findUserByIdentity('https://idp', 'sub-1'), alice);
        assert.equal(await db.users.findUserByIdentity('https://other-idp', 'sub-1'), undefined);
        await rejectsWith(db.users.createUserWithIdentity('alice2', 'https://idp', 'sub-1'), 'conflict', 'identity-exists');
        await rejectsWith(db.users.createUserWithIdentity('alice', 'https://idp', 'sub-2'), 'conflict', 'user-exists');
        assert.equal(await db.users.findUserByIdentity('https://idp', 'sub-2'), undefined, 'a refused creation left a link');
        assert.equal(await db.users.countUsers(), 1);
      });

      it('replaces groups of one source, keeps local ones, and records a change only when something changed', async () => {
        const db = await fresh();
        const user = await db.users.createUser('alice', false);
        await db.groups.addGroupMember('local-team', user.id);
        const seq = await db.changes.latestChangeSeq();
        assert.equal(await db.groups.replaceGroups(user.id, 'oidc', ['devs', 'devs/backend']), true);
        assert.deepEqual(
          (await db.changes.changesSince(seq)).map((c) => [c.kind, c.subject]),
          [['user', String(user.id)]],
        );
        const groupsOf = async () => {
          const hash = `h-${Math.random()}`;
          await db.tokens.insertToken({ userId: user.id, name: 't', hash, expiresAt: null });
          return (await db.tokens.findPrincipalByTokenHash(hash))!.groups;
        };
        assert.deepEqual(await groupsOf(), ['devs', 'devs/backend', 'local-team']);
        const seq2 = await db.changes.latestChangeSeq();
        assert.equal(await db.groups.replaceGroups(user.id, 'oidc', ['devs/backend', 'devs']), false);
        assert.deepEqual(await db.changes.changesSince(seq2), []);
        assert.equal(await db.groups.replaceGroups(user.id, 'oidc', ['ops', 'local-team']), true);
        assert.deepEqual(await groupsOf(), ['local-team', 'ops']);
        assert.equal(await db.groups.replaceGroups(user.id, 'oidc', []), true);
        assert.deepEqual(await groupsOf(), ['local-team'], 'a provider group list removed a local membership');
      });
    });

    describe('ID tokens and server secrets', () => {
      it('accepts an ID token id once per issuer', async () => {
        const db = await fresh();
        const exp = new Date(Date.now() + 300_000).toISOString();
        assert.equal(await db.idTokens.recordIdTokenUse('https://ci', 'jti-1', exp), true);
        assert.equal(await db.idTokens.recordIdTokenUse('https://ci', 'jti-1', exp), false);
        assert.equal(await db.idTokens.recordIdTokenUse('https://other-ci', 'jti-1', exp), true);
      });

      it('makes a secret once and gives every caller the same one', async () => {
        const db = await fresh();
        const first = await db.secrets.getOrCreateSecret('k', () => 'one');
        const second = await db.secrets.getOrCreateSecret('k', () => 'two');
        assert.equal(first, 'one');
        assert.equal(second, 'one');
        assert.equal(await db.secrets.getOrCreateSecret('other', () => 'three'), 'three');
      });
    });
  });
}
