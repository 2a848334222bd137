// The identity part of the MetadataStore contract (migration 3): passwords, provider identities,
// groups by source, token origins, ID-token replay records and shared secrets. Run against SQLite
// and PostgreSQL by the *-identity-store.test.ts files.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { MetadataStore } from '../../src/ports/metadata-store.js';
import { rejectsWith } from './metadata-store-fixtures.js';

export function identityStoreContract(name: string, open: () => Promise<MetadataStore>): void {
  describe(`MetadataStore identity contract: ${name}`, () => {
    const opened: MetadataStore[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    it('stores, finds and removes password hashes', async () => {
      const store = await fresh();
      const alice = await store.createUser('alice', false);
      assert.equal(await store.anyPasswordSet(), false);
      assert.deepEqual(await store.findPasswordHash('alice'), { user: alice, passwordHash: null });
      await store.setPasswordHash(alice.id, '$argon2id$fake');
      assert.equal(await store.anyPasswordSet(), true);
      assert.equal((await store.findPasswordHash('alice'))?.passwordHash, '$argon2id$fake');
      assert.equal(await store.findPasswordHash('nobody'), undefined);
      await store.setPasswordHash(alice.id, null);
      assert.equal(await store.anyPasswordSet(), false);
    });

    it('creates users linked to a provider identity, keyed by (issuer, sub)', async () => {
      const store = await fresh();
      const alice = await store.createUserWithIdentity('alice', 'https://idp', 'sub-1');
      assert.deepEqual(await store.findUserByIdentity('https://idp', 'sub-1'), alice);
      assert.equal(await store.findUserByIdentity('https://other-idp', 'sub-1'), undefined);
      await rejectsWith(store.createUserWithIdentity('alice2', 'https://idp', 'sub-1'), 'conflict', 'identity-exists');
      await rejectsWith(store.createUserWithIdentity('alice', 'https://idp', 'sub-2'), 'conflict', 'user-exists');
      assert.equal(await store.findUserByIdentity('https://idp', 'sub-2'), undefined, 'a refused creation left a link');
      assert.equal(await store.countUsers(), 1);
    });

    it('replaces groups of one source, keeps local ones, and records a change only when something changed', async () => {
      const store = await fresh();
      const user = await store.createUser('alice', false);
      await store.addGroupMember('local-team', user.id);
      const seq = await store.latestChangeSeq();
      assert.equal(await store.replaceGroups(user.id, 'oidc', ['devs', 'devs/backend']), true);
      assert.deepEqual((await store.changesSince(seq)).map((c) => [c.kind, c.subject]), [['user', String(user.id)]]);
      const groupsOf = async () => {
        const hash = `h-${Math.random()}`;
        await store.insertToken({ userId: user.id, name: 't', hash, expiresAt: null });
        return (await store.findPrincipalByTokenHash(hash))!.groups;
      };
      assert.deepEqual(await groupsOf(), ['devs', 'devs/backend', 'local-team']);
      const seq2 = await store.latestChangeSeq();
      assert.equal(await store.replaceGroups(user.id, 'oidc', ['devs/backend', 'devs']), false);
      assert.deepEqual(await store.changesSince(seq2), []);
      assert.equal(await store.replaceGroups(user.id, 'oidc', ['ops', 'local-team']), true);
      assert.deepEqual(await groupsOf(), ['local-team', 'ops']);
      assert.equal(await store.replaceGroups(user.id, 'oidc', []), true);
      assert.deepEqual(await groupsOf(), ['local-team'], 'a provider group list removed a local membership');
    });

    it('stores where a token came from', async () => {
      const store = await fresh();
      const user = await store.createUser('alice', false);
      const login = await store.insertToken({ userId: user.id, name: 'web', hash: 'h1', expiresAt: null, origin: 'login' });
      const plain = await store.insertToken({ userId: user.id, name: 'cli', hash: 'h2', expiresAt: null });
      assert.equal(login.origin, 'login');
      assert.equal(plain.origin, null);
      assert.deepEqual((await store.listTokens(user.id)).map((t) => t.origin), ['login', null]);
    });

    it('accepts an ID token id once per issuer', async () => {
      const store = await fresh();
      const exp = new Date(Date.now() + 300_000).toISOString();
      assert.equal(await store.recordIdTokenUse('https://ci', 'jti-1', exp), true);
      assert.equal(await store.recordIdTokenUse('https://ci', 'jti-1', exp), false);
      assert.equal(await store.recordIdTokenUse('https://other-ci', 'jti-1', exp), true);
    });

    it('makes a secret once and gives every caller the same one', async () => {
      const store = await fresh();
      const first = await store.getOrCreateSecret('k', () => 'one');
      const second = await store.getOrCreateSecret('k', () => 'two');
      assert.equal(first, 'one');
      assert.equal(second, 'one');
      assert.equal(await store.getOrCreateSecret('other', () => 'three'), 'three');
    });
  });
}
