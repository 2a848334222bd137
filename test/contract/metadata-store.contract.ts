// The MetadataStore contract: one suite that every adapter (SQLite, PostgreSQL) must pass
// unchanged. Each test opens a fresh, empty store through `open` and closes it afterwards.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { MetadataStore, User } from '../../src/ports/metadata-store.js';
import { runFeedRace } from './feed-race.js';
import { newVersion, rejectsWith } from './metadata-store-fixtures.js';

export interface ContractOptions {
  /**
   * Opens two stores on one fresh database, as two processes would, for the change-feed race:
   * the first writes, the second polls. Its commits may be made to linger after a change is
   * recorded, to widen race windows. Without it, one store from `open` does both.
   */
  openTwin?: () => Promise<[MetadataStore, MetadataStore]>;
}

const versionsOf = async (store: MetadataStore, lowerName: string) =>
  (await store.listVersions(lowerName))?.map((v) => `${v.entry.vers}${v.yanked ? ' (yanked)' : ''}`);
const loginsOf = (users: User[] | undefined) => users?.map((u) => u.login);

export function metadataStoreContract(
  name: string,
  open: () => Promise<MetadataStore>,
  options: ContractOptions = {},
): void {
  describe(`MetadataStore contract: ${name}`, () => {
    const opened: MetadataStore[] = [];
    const fresh = async () => {
      const store = await open();
      opened.push(store);
      return store;
    };
    const freshTwin = async (): Promise<[MetadataStore, MetadataStore]> => {
      if (!options.openTwin) {
        const store = await fresh();
        return [store, store];
      }
      const [writer, reader] = await options.openTwin();
      opened.push(writer, reader);
      return [writer, reader];
    };
    afterEach(async () => {
      for (const store of opened.splice(0)) await store.close();
    });

    describe('users', () => {
      it('creates, finds and counts users', async () => {
        const store = await fresh();
        assert.equal(await store.countUsers(), 0);
        const alice = await store.createUser('alice', true);
        const bob = await store.createUser('bob', false);
        assert.deepEqual([alice.login, alice.isAdmin, bob.login, bob.isAdmin], ['alice', true, 'bob', false]);
        assert.notEqual(alice.id, bob.id);
        assert.ok(!Number.isNaN(Date.parse(alice.createdAt)));
        assert.deepEqual(await store.findUserByLogin('alice'), alice);
        assert.equal(await store.findUserByLogin('carol'), undefined);
        assert.equal(await store.countUsers(), 2);
      });

      it('refuses a second user with the same login', async () => {
        const store = await fresh();
        await store.createUser('alice', false);
        await rejectsWith(store.createUser('alice', true), 'conflict', 'user-exists');
        assert.equal(await store.countUsers(), 1);
      });
    });

    describe('tokens', () => {
      it('finds the principal of an active token by its hash', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', true);
        const token = await store.insertToken({ userId: alice.id, name: 'ci', hash: 'h1', expiresAt: '2099-01-01T00:00:00.000Z' });
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
        assert.deepEqual(await store.findPrincipalByTokenHash('h1'), {
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
        assert.equal(await store.findPrincipalByTokenHash('nope'), undefined);

        // Scopes, crate patterns and the user's groups travel with the principal.
        const narrow = await store.insertToken({ userId: alice.id, name: 'narrow', hash: 'h2', expiresAt: null, scopes: ['read', 'yank'], cratePatterns: ['foo-*'] });
        assert.deepEqual({ scopes: narrow.scopes, cratePatterns: narrow.cratePatterns }, { scopes: ['read', 'yank'], cratePatterns: ['foo-*'] });
        assert.equal(await store.addGroupMember('core', alice.id), true);
        assert.equal(await store.addGroupMember('core', alice.id), false);
        await store.addGroupMember('admins', alice.id);
        const principal = await store.findPrincipalByTokenHash('h2');
        assert.deepEqual(
          { scopes: principal?.scopes, cratePatterns: principal?.cratePatterns, groups: principal?.groups },
          { scopes: ['read', 'yank'], cratePatterns: ['foo-*'], groups: ['admins', 'core'] },
        );
        assert.deepEqual((await store.listGroupMembers('core')).map((u) => u.login), ['alice']);
        assert.equal(await store.removeGroupMember('core', alice.id), true);
        assert.equal(await store.removeGroupMember('core', alice.id), false);
        assert.deepEqual((await store.findPrincipalByTokenHash('h2'))?.groups, ['admins']);
      });

      it("lists a user's tokens in creation order, and only theirs", async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const bob = await store.createUser('bob', false);
        await store.insertToken({ userId: alice.id, name: 'one', hash: 'a1', expiresAt: null });
        await store.insertToken({ userId: bob.id, name: 'bobs', hash: 'b1', expiresAt: null });
        await store.insertToken({ userId: alice.id, name: 'two', hash: 'a2', expiresAt: null });
        assert.deepEqual((await store.listTokens(alice.id)).map((t) => t.name), ['one', 'two']);
        assert.deepEqual(await store.listTokens(9999), []);
      });

      it('revokes once: the token is no longer found, a second revoke returns false', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const token = await store.insertToken({ userId: alice.id, name: 'ci', hash: 'h1', expiresAt: null });
        assert.equal(await store.revokeToken(token.id), true);
        assert.equal(await store.findPrincipalByTokenHash('h1'), undefined);
        assert.ok((await store.listTokens(alice.id))[0]!.revokedAt);
        assert.equal(await store.revokeToken(token.id), false);
        assert.equal(await store.revokeToken(9999), false);
      });

      it('records when tokens were last used', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const t1 = await store.insertToken({ userId: alice.id, name: 'one', hash: 'h1', expiresAt: null });
        const t2 = await store.insertToken({ userId: alice.id, name: 'two', hash: 'h2', expiresAt: null });
        await store.recordTokenUse(new Map());
        await store.recordTokenUse(new Map([[t1.id, '2030-01-01T00:00:00.000Z'], [t2.id, '2030-01-02T00:00:00.000Z']]));
        await store.recordTokenUse(new Map([[t2.id, '2030-01-03T00:00:00.000Z']]));
        assert.deepEqual(
          (await store.listTokens(alice.id)).map((t) => t.lastUsedAt),
          ['2030-01-01T00:00:00.000Z', '2030-01-03T00:00:00.000Z'],
        );
      });
    });

    describe('versions', () => {
      it('creates the crate with the publisher as owner, then adds versions in publish order', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        assert.equal(await store.listVersions('serde'), undefined);
        const first = newVersion('Serde', '1.0.0', alice.id);
        assert.deepEqual(await store.publishVersion(first), { newCrate: true });
        assert.deepEqual(await store.publishVersion(newVersion('Serde', '1.1.0', alice.id)), { newCrate: false });
        assert.deepEqual(await store.publishVersion(newVersion('Serde', '0.9.0', alice.id)), { newCrate: false });
        assert.deepEqual(await versionsOf(store, 'serde'), ['1.0.0', '1.1.0', '0.9.0']);
        assert.deepEqual((await store.listVersions('serde'))![0], { entry: first.entry, yanked: false });
        // The same rows unparsed, for rendering on a worker thread.
        const json = (await store.listVersionsJson('serde'))!;
        assert.deepEqual(json.map((v) => ({ entry: JSON.parse(v.entryJson) as unknown, yanked: v.yanked })), await store.listVersions('serde'));
        assert.equal(await store.listVersionsJson('nope'), undefined);
        assert.deepEqual(loginsOf(await store.listOwners('serde')), ['alice']);
        assert.equal(await store.listOwners('nope'), undefined);
      });

      it('refuses a publisher who is not an owner', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const mallory = await store.createUser('mallory', false);
        await store.publishVersion(newVersion('serde', '1.0.0', alice.id));
        await rejectsWith(store.publishVersion(newVersion('serde', '2.0.0', mallory.id)), 'forbidden', 'not-an-owner');
        assert.deepEqual(await versionsOf(store, 'serde'), ['1.0.0']);
      });

      it('refuses an existing version, build metadata ignored', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        await store.publishVersion(newVersion('serde', '1.0.0+build.1', alice.id));
        await rejectsWith(store.publishVersion(newVersion('serde', '1.0.0+build.1', alice.id)), 'conflict', 'version-exists');
        await rejectsWith(store.publishVersion(newVersion('serde', '1.0.0', alice.id)), 'conflict', 'version-exists');
        await rejectsWith(store.publishVersion(newVersion('serde', '1.0.0+other', alice.id)), 'conflict', 'version-exists');
        assert.deepEqual(await versionsOf(store, 'serde'), ['1.0.0+build.1']);
      });

      it('refuses a name that differs from an existing one only in case or -/_', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        await store.publishVersion(newVersion('serde_json', '1.0.0', alice.id));
        await rejectsWith(store.publishVersion(newVersion('Serde_Json', '1.0.1', alice.id)), 'conflict', 'crate-name-taken');
        await rejectsWith(store.publishVersion(newVersion('serde-json', '1.0.1', alice.id)), 'conflict', 'crate-name-taken');
        assert.equal(await store.findCrateName('serde_json'), 'serde_json');
        assert.deepEqual(await versionsOf(store, 'serde_json'), ['1.0.0']);
      });

      for (const existing of [false, true]) {
        it(`lets exactly one of many concurrent publishes of the same version win (${existing ? 'existing' : 'new'} crate)`, async () => {
          const store = await fresh();
          const alice = await store.createUser('alice', false);
          if (existing) await store.publishVersion(newVersion('racy', '0.1.0', alice.id));
          const results = await Promise.allSettled(
            Array.from({ length: 8 }, () => store.publishVersion(newVersion('racy', '1.0.0', alice.id))),
          );
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results));
          for (const r of results) {
            if (r.status === 'rejected') await rejectsWith(Promise.reject(r.reason as Error), 'conflict', 'version-exists');
          }
          assert.deepEqual(await versionsOf(store, 'racy'), existing ? ['0.1.0', '1.0.0'] : ['1.0.0']);
        });
      }

      it('lets concurrent first publishes of different versions of a new crate all succeed', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const bob = await store.createUser('bob', false);
        const results = await Promise.allSettled([
          store.publishVersion(newVersion('fresh', '1.0.0', alice.id)),
          store.publishVersion(newVersion('fresh', '1.0.1', alice.id)),
          store.publishVersion(newVersion('fresh', '1.0.2', alice.id)),
        ]);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled'], JSON.stringify(results));
        assert.deepEqual(
          results.map((r) => (r.status === 'fulfilled' ? r.value.newCrate : undefined)).filter(Boolean),
          [true],
        );
        assert.deepEqual((await versionsOf(store, 'fresh'))?.sort(), ['1.0.0', '1.0.1', '1.0.2']);
        // Whoever loses the race to create a crate gets the answer it would have got a moment later.
        const late = await Promise.allSettled([
          store.publishVersion(newVersion('other', '1.0.0', alice.id)),
          store.publishVersion(newVersion('Other', '1.0.0', alice.id)),
          store.publishVersion(newVersion('other', '2.0.0', bob.id)),
        ]);
        assert.equal(late.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(late));
      });

      it('yanks and unyanks; unknown crates and versions return false', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        await store.publishVersion(newVersion('Serde', '1.0.0', alice.id));
        await store.publishVersion(newVersion('Serde', '1.1.0', alice.id));
        assert.equal(await store.setYanked('serde', '1.0.0', true), true);
        assert.deepEqual(await versionsOf(store, 'serde'), ['1.0.0 (yanked)', '1.1.0']);
        assert.equal(await store.setYanked('serde', '1.0.0', false), true);
        assert.deepEqual(await versionsOf(store, 'serde'), ['1.0.0', '1.1.0']);
        assert.equal(await store.setYanked('serde', '9.9.9', true), false);
        assert.equal(await store.setYanked('nope', '1.0.0', true), false);
      });

      it("finds a version's blob and a crate's exact-case name", async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const v = newVersion('My-Crate', '1.0.0', alice.id);
        await store.publishVersion(v);
        assert.deepEqual(await store.findVersionBlob('my-crate', '1.0.0'), { blobKey: v.blobKey, size: v.size, cksum: v.entry.cksum });
        assert.equal(await store.findVersionBlob('my-crate', '2.0.0'), undefined);
        assert.equal(await store.findVersionBlob('nope', '1.0.0'), undefined);
        assert.equal(await store.findCrateName('my_crate'), 'My-Crate');
        assert.equal(await store.findCrateName('nope'), undefined);
      });
    });

    describe('owners', () => {
      it('adds owners (twice is harmless), lists them by login, removes them', async () => {
        const store = await fresh();
        const carol = await store.createUser('carol', false);
        const alice = await store.createUser('alice', false);
        const bob = await store.createUser('bob', false);
        await store.publishVersion(newVersion('serde', '1.0.0', carol.id));
        await store.addOwners('serde', [bob.id, alice.id]);
        await store.addOwners('serde', [bob.id]);
        assert.deepEqual(loginsOf(await store.listOwners('serde')), ['alice', 'bob', 'carol']);
        await store.removeOwners('serde', [carol.id, bob.id]);
        assert.deepEqual(loginsOf(await store.listOwners('serde')), ['alice']);
        // A new owner may publish; a removed one may not.
        await store.publishVersion(newVersion('serde', '1.0.1', alice.id));
        await rejectsWith(store.publishVersion(newVersion('serde', '1.0.2', bob.id)), 'forbidden', 'not-an-owner');
      });

      it('refuses to remove the last owner and leaves the owners as they were', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const bob = await store.createUser('bob', false);
        await store.publishVersion(newVersion('serde', '1.0.0', alice.id));
        await store.addOwners('serde', [bob.id]);
        await rejectsWith(store.removeOwners('serde', [alice.id, bob.id]), 'conflict', 'last-owner');
        assert.deepEqual(loginsOf(await store.listOwners('serde')), ['alice', 'bob']);
        await store.removeOwners('serde', [bob.id]);
        await rejectsWith(store.removeOwners('serde', [alice.id]), 'conflict', 'last-owner');
        assert.deepEqual(loginsOf(await store.listOwners('serde')), ['alice']);
      });

      it('lets a group own a crate: its members publish, and it counts as an owner', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const bob = await store.createUser('bob', false);
        await store.publishVersion(newVersion('serde', '1.0.0', alice.id));
        await rejectsWith(store.publishVersion(newVersion('serde', '1.0.1', bob.id)), 'forbidden', 'not-an-owner');
        await store.addOwners('serde', [], ['core']);
        await store.addOwners('serde', [], ['core']);
        assert.deepEqual(await store.listOwnerGroups('serde'), ['core']);
        assert.equal(await store.listOwnerGroups('nope'), undefined);
        await rejectsWith(store.publishVersion(newVersion('serde', '1.0.1', bob.id)), 'forbidden', 'not-an-owner');
        await store.addGroupMember('core', bob.id);
        await store.publishVersion(newVersion('serde', '1.0.1', bob.id));
        // With the group left, the last user may go; the group may not go last.
        await store.removeOwners('serde', [alice.id]);
        assert.deepEqual(loginsOf(await store.listOwners('serde')), []);
        await rejectsWith(store.removeOwners('serde', [], ['core']), 'conflict', 'last-owner');
        assert.deepEqual(await store.listOwnerGroups('serde'), ['core']);
      });
    });

    describe('search', () => {
      const seed = async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const crates: [string, string | null][] = [
          ['toml', 'A SERDE-compatible TOML decoder'],
          ['serde_json', 'JSON for serde'],
          ['miniserde', null],
          ['Serde', 'A generic serialization framework'],
          ['ab', '100% safe'],
          ['a1b', 'nothing special'],
        ];
        for (const [n, description] of crates) await store.publishVersion(newVersion(n, '1.0.0', alice.id, { description }));
        await store.publishVersion(newVersion('Serde', '1.1.0', alice.id, { description: 'A generic serialization framework' }));
        await store.setYanked('serde', '1.0.0', true);
        return store;
      };
      const names = async (store: MetadataStore, q: string, limit = 50, offset = 0) => {
        const { total, hits } = await store.searchCrates(q, limit, offset);
        return { total, names: hits.map((h) => h.name) };
      };

      it('matches names and descriptions case-insensitively: exact, then prefix, then the rest by name', async () => {
        const store = await seed();
        assert.deepEqual(await names(store, 'SERDE'), { total: 4, names: ['Serde', 'serde_json', 'miniserde', 'toml'] });
        assert.deepEqual(await names(store, 'decoder'), { total: 1, names: ['toml'] });
        assert.deepEqual(await names(store, 'zzz'), { total: 0, names: [] });
        const [serde] = (await store.searchCrates('serde', 1, 0)).hits;
        assert.equal(serde!.description, 'A generic serialization framework');
        assert.deepEqual(serde!.versions.map((v) => [v.entry.vers, v.yanked]), [['1.0.0', true], ['1.1.0', false]]);
      });

      it('takes % and _ literally', async () => {
        const store = await seed();
        assert.deepEqual(await names(store, '_'), { total: 1, names: ['serde_json'] });
        assert.deepEqual(await names(store, '%'), { total: 1, names: ['ab'] });
        assert.deepEqual(await names(store, 'a_b'), { total: 0, names: [] });
        assert.deepEqual(await names(store, '0% s'), { total: 1, names: ['ab'] });
      });

      it('pages through the hits with a stable total', async () => {
        const store = await seed();
        assert.deepEqual(await names(store, 'serde', 2, 0), { total: 4, names: ['Serde', 'serde_json'] });
        assert.deepEqual(await names(store, 'serde', 2, 2), { total: 4, names: ['miniserde', 'toml'] });
        assert.deepEqual(await names(store, 'serde', 2, 4), { total: 4, names: [] });
      });
    });

    describe('change feed', () => {
      it('starts empty', async () => {
        const store = await fresh();
        assert.equal(await store.latestChangeSeq(), 0);
        assert.deepEqual(await store.changesSince(0), []);
      });

      it('records every mutation, in order, and no refused one', async () => {
        const store = await fresh();
        const alice = await store.createUser('alice', false);
        const bob = await store.createUser('bob', false);
        const token = await store.insertToken({ userId: alice.id, name: 'ci', hash: 'hash-1', expiresAt: null });
        const start = await store.latestChangeSeq();

        await store.publishVersion(newVersion('Serde', '1.0.0', alice.id));
        await rejectsWith(store.publishVersion(newVersion('serde', '1.0.0', alice.id)), 'conflict', 'crate-name-taken');
        await store.publishVersion(newVersion('toml', '0.1.0', bob.id));
        await store.setYanked('serde', '1.0.0', true);
        await store.setYanked('serde', '7.0.0', true);
        await store.addOwners('serde', [bob.id]);
        await store.removeOwners('serde', [alice.id]);
        await rejectsWith(store.removeOwners('serde', [bob.id]), 'conflict', 'last-owner');
        await store.revokeToken(token.id);
        await store.revokeToken(token.id);

        const changes = await store.changesSince(start);
        assert.deepEqual(
          changes.map((c) => `${c.kind}:${c.subject}`),
          ['crate:serde', 'crate:toml', 'crate:serde', 'crate:serde', 'crate:serde', 'token:hash-1'],
        );
        for (let i = 1; i < changes.length; i++) assert.ok(changes[i]!.seq > changes[i - 1]!.seq);
        assert.ok(changes[0]!.seq > start);
        assert.equal(await store.latestChangeSeq(), changes.at(-1)!.seq);
        assert.deepEqual(await store.changesSince(changes[3]!.seq), changes.slice(4));
        assert.deepEqual(await store.changesSince(changes.at(-1)!.seq), []);
      });

      it('never lets a poller miss a change committed by concurrent writers', async () => {
        const [writer, reader] = await freshTwin();
        const { committed, missed, polls } = await runFeedRace(writer, reader, 120);
        assert.equal(committed.length, 120);
        assert.ok(polls > 1, 'the poller did not run alongside the writers');
        assert.deepEqual(missed, [], `the poller missed ${missed.length} of ${committed.length} changes in ${polls} polls`);
      });
    });
  });
}
