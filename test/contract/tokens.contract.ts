// The Tokens repository's contract: issuing, the principal a token speaks for (with its scopes,
// crate patterns, origin and the user's groups), listing, revoking and last use. Run against SQLite
// and PostgreSQL by metadata-repositories-*.test.ts; each test opens a fresh, empty database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';

export function tokensContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`Tokens contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    describe('tokens', () => {
      it('finds the principal of an active token by its hash', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', true);
        const token = await db.tokens.insertToken({ userId: alice.id, name: 'ci', hash: 'h1', expiresAt: '2099-01-01T00:00:00.000Z' });
        assert.deepEqual(
          { ...token, createdAt: 'x' },
          {
            id: token.id,
            userId: alice.id,
            name: 'ci',
            createdAt: 'x',
            lastUsedAt: null,
            expiresAt: '2099-01-01T00:00:00.000Z',
            revokedAt: null,
            scopes: null,
            cratePatterns: null,
            origin: null,
          },
        );
        assert.deepEqual(await db.tokens.findPrincipalByTokenHash('h1'), {
          tokenId: token.id,
          userId: alice.id,
          login: 'alice',
          isAdmin: true,
          expiresAt: '2099-01-01T00:00:00.000Z',
          scopes: null,
          cratePatterns: null,
          groups: [],
          origin: null,
        });
        assert.equal(await db.tokens.findPrincipalByTokenHash('nope'), undefined);

        // Scopes, crate patterns and the user's groups travel with the principal.
        const narrow = await db.tokens.insertToken({
          userId: alice.id,
          name: 'narrow',
          hash: 'h2',
          expiresAt: null,
          scopes: ['read', 'yank'],
          cratePatterns: ['foo-*'],
        });
        assert.deepEqual(
          { scopes: narrow.scopes, cratePatterns: narrow.cratePatterns },
          { scopes: ['read', 'yank'], cratePatterns: ['foo-*'] },
        );
        assert.equal(await db.groups.addGroupMember('core', alice.id), true);
        assert.equal(await db.groups.addGroupMember('core', alice.id), false);
        await db.groups.addGroupMember('admins', alice.id);
        const principal = await db.tokens.findPrincipalByTokenHash('h2');
        assert.deepEqual(
          { scopes: principal?.scopes, cratePatterns: principal?.cratePatterns, groups: principal?.groups },
          { scopes: ['read', 'yank'], cratePatterns: ['foo-*'], groups: ['admins', 'core'] },
        );
        assert.deepEqual(
          (await db.groups.listGroupMembers('core')).map((u) => u.login),
          ['alice'],
        );
        assert.equal(await db.groups.removeGroupMember('core', alice.id), true);
        assert.equal(await db.groups.removeGroupMember('core', alice.id), false);
        assert.deepEqual((await db.tokens.findPrincipalByTokenHash('h2'))?.groups, ['admins']);
      });

      it("lists a user's tokens in creation order, and only theirs", async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const bob = await db.users.createUser('bob', false);
        await db.tokens.insertToken({ userId: alice.id, name: 'one', hash: 'a1', expiresAt: null });
        await db.tokens.insertToken({ userId: bob.id, name: 'bobs', hash: 'b1', expiresAt: null });
        await db.tokens.insertToken({ userId: alice.id, name: 'two', hash: 'a2', expiresAt: null });
        assert.deepEqual(
          (await db.tokens.listTokens(alice.id)).map((t) => t.name),
          ['one', 'two'],
        );
        assert.deepEqual(await db.tokens.listTokens(9999), []);
      });

      it('revokes once: the token is no longer found, a second revoke returns false', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const token = await db.tokens.insertToken({ userId: alice.id, name: 'ci', hash: 'h1', expiresAt: null });
        assert.equal(await db.tokens.revokeToken(token.id), true);
        assert.equal(await db.tokens.findPrincipalByTokenHash('h1'), undefined);
        assert.ok((await db.tokens.listTokens(alice.id))[0]!.revokedAt);
        assert.equal(await db.tokens.revokeToken(token.id), false);
        assert.equal(await db.tokens.revokeToken(9999), false);
      });

      it('records when tokens were last used', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const t1 = await db.tokens.insertToken({ userId: alice.id, name: 'one', hash: 'h1', expiresAt: null });
        const t2 = await db.tokens.insertToken({ userId: alice.id, name: 'two', hash: 'h2', expiresAt: null });
        await db.tokens.recordTokenUse(new Map());
        await db.tokens.recordTokenUse(
          new Map([
            [t1.id, '2030-01-01T00:00:00.000Z'],
            [t2.id, '2030-01-02T00:00:00.000Z'],
          ]),
        );
        await db.tokens.recordTokenUse(new Map([[t2.id, '2030-01-03T00:00:00.000Z']]));
        assert.deepEqual(
          (await db.tokens.listTokens(alice.id)).map((t) => t.lastUsedAt),
          ['2030-01-01T00:00:00.000Z', '2030-01-03T00:00:00.000Z'],
        );
      });

      it('stores where a token came from', async () => {
        const db = await fresh();
        const user = await db.users.createUser('alice', false);
        const login = await db.tokens.insertToken({ userId: user.id, name: 'web', hash: 'h1', expiresAt: null, origin: 'login' });
        const plain = await db.tokens.insertToken({ userId: user.id, name: 'cli', hash: 'h2', expiresAt: null });
        assert.equal(login.origin, 'login');
        assert.equal(plain.origin, null);
        assert.deepEqual(
          (await db.tokens.listTokens(user.id)).map((t) => t.origin),
          ['login', null],
        );
      });
    });
  });
}
