// The contract of the publish and index side: the Crates repository (versions, yanks, blobs,
// names), Owners (users and groups) and CrateSearch. Run against SQLite and PostgreSQL by
// metadata-repositories-*.test.ts; each test opens a fresh, empty database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { MIN_GZIP_BYTES } from '../../src/domain/index-file.js';
import { indexFileEtag } from '../../src/adapters/metadata/sql-index-files.js';
import { renderIndexFile } from '../../src/domain/index-line.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';
import type { User } from '../../src/ports/users.js';
import { newVersion, rejectsWith } from './repository-fixtures.js';

const versionsOf = async (db: MetadataDatabase, lowerName: string) =>
  (await db.crates.listVersions(lowerName))?.map((v) => `${v.entry.vers}${v.yanked ? ' (yanked)' : ''}`);
const loginsOf = (users: User[] | undefined) => users?.map((u) => u.login);

/**
 * The stored index file is what a render of the crate's versions gives, with that content's hash as
 * ETag; read in its gzip form, the gzip of those bytes (or the bytes alone, under 1 KiB). Answers
 * the file as read without gzip.
 */
async function assertIndexFileMatches(db: MetadataDatabase, lowerName: string) {
  const file = await db.crates.readIndexFile(lowerName, 'identity');
  assert.ok(file?.body, `no index file for ${lowerName}`);
  assert.deepEqual(Object.keys(file).sort(), ['body', 'etag']);
  assert.equal(file.body.toString(), renderIndexFile((await db.crates.listVersions(lowerName))!));
  assert.equal(file.etag, indexFileEtag(file.body));
  const compressed = await db.crates.readIndexFile(lowerName, 'gzip');
  if (file.body.length < MIN_GZIP_BYTES) {
    assert.deepEqual(compressed, file, 'a small file has no gzip form');
  } else {
    assert.deepEqual(Object.keys(compressed!).sort(), ['etag', 'gzipped'], 'the gzip form alone');
    assert.equal(compressed!.etag, file.etag);
    assert.deepEqual(gunzipSync(compressed!.gzipped!), file.body);
  }
  return { body: file.body, etag: file.etag };
}

export function cratesContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`Crates, Owners and CrateSearch contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    describe('versions', () => {
      it('creates the crate with the publisher as owner, then adds versions in publish order', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        assert.equal(await db.crates.listVersions('serde'), undefined);
        const first = newVersion('Serde', '1.0.0', alice.id);
        assert.deepEqual(await db.crates.publishVersion(first), { newCrate: true });
        assert.deepEqual(await db.crates.publishVersion(newVersion('Serde', '1.1.0', alice.id)), { newCrate: false });
        assert.deepEqual(await db.crates.publishVersion(newVersion('Serde', '0.9.0', alice.id)), { newCrate: false });
        assert.deepEqual(await versionsOf(db, 'serde'), ['1.0.0', '1.1.0', '0.9.0']);
        assert.deepEqual((await db.crates.listVersions('serde'))![0], { entry: first.entry, yanked: false });
        await assertIndexFileMatches(db, 'serde');
        assert.equal(await db.crates.readIndexFile('nope', 'identity'), undefined);
        assert.equal(await db.crates.readIndexFile('nope', 'gzip'), undefined);
        assert.deepEqual(loginsOf(await db.owners.listOwners('serde')), ['alice']);
        assert.equal(await db.owners.listOwners('nope'), undefined);
      });

      it('reads back the exact bytes of a stored file beyond ASCII (PostgreSQL sends it as text)', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const version = newVersion('unicode', '1.0.0', alice.id);
        version.entry.features = { default: [], 'überall-✓': [], '𝔣𝔢𝔞𝔱𝔲𝔯𝔢': [] };
        await db.crates.publishVersion(version);
        const file = await assertIndexFileMatches(db, 'unicode');
        assert.deepEqual(file.body, Buffer.from(renderIndexFile([{ entry: version.entry, yanked: false }])));
        assert.match(file.body.toString(), /überall-✓.*𝔣𝔢𝔞𝔱𝔲𝔯𝔢/);
      });

      it('answers many reads at once each with its own file, in both forms (batched on PostgreSQL and the SQLite reader thread)', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const names = Array.from({ length: 24 }, (_, i) => `many-${i}`);
        for (const [i, name] of names.entries()) {
          // Some files over MIN_GZIP_BYTES (a gzip form), some under.
          for (let v = 0; v <= i % 6; v++) await db.crates.publishVersion(newVersion(name, `${v}.0.0`, alice.id));
        }
        // Missing names with what an array literal must escape (PostgreSQL reads `name = any($1)`).
        const asked = [...names, 'no,such"crate}', 'missing\\{2'].flatMap((name) => [name, name]);
        const one = async (name: string, form: 'gzip' | 'identity') => [name, form, await db.crates.readIndexFile(name, form)];
        const alone = [];
        for (const [i, name] of asked.entries()) alone.push(await one(name, i % 2 === 0 ? 'gzip' : 'identity'));
        const together = await Promise.all(asked.map((name, i) => one(name, i % 2 === 0 ? 'gzip' : 'identity')));
        assert.deepEqual(together, alone);
        assert.ok(
          alone.some(([, , file]) => (file as { gzipped?: Buffer } | undefined)?.gzipped),
          'some gzip forms',
        );
        assert.equal(alone.filter(([, , file]) => file === undefined).length, 4);
        for (const name of names) await assertIndexFileMatches(db, name);
      });

      it('refuses a publisher who is not an owner', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const mallory = await db.users.createUser('mallory', false);
        await db.crates.publishVersion(newVersion('serde', '1.0.0', alice.id));
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '2.0.0', mallory.id)), 'forbidden', 'not-an-owner');
        assert.deepEqual(await versionsOf(db, 'serde'), ['1.0.0']);
      });

      it('refuses an existing version, build metadata ignored', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        await db.crates.publishVersion(newVersion('serde', '1.0.0+build.1', alice.id));
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '1.0.0+build.1', alice.id)), 'conflict', 'version-exists');
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '1.0.0', alice.id)), 'conflict', 'version-exists');
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '1.0.0+other', alice.id)), 'conflict', 'version-exists');
        assert.deepEqual(await versionsOf(db, 'serde'), ['1.0.0+build.1']);
      });

      it('refuses a name that differs from an existing one only in case or -/_', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        await db.crates.publishVersion(newVersion('serde_json', '1.0.0', alice.id));
        await rejectsWith(db.crates.publishVersion(newVersion('Serde_Json', '1.0.1', alice.id)), 'conflict', 'crate-name-taken');
        await rejectsWith(db.crates.publishVersion(newVersion('serde-json', '1.0.1', alice.id)), 'conflict', 'crate-name-taken');
        assert.equal(await db.crates.findCrateName('serde_json'), 'serde_json');
        assert.deepEqual(await versionsOf(db, 'serde_json'), ['1.0.0']);
      });

      for (const existing of [false, true]) {
        it(`lets exactly one of many concurrent publishes of the same version win (${existing ? 'existing' : 'new'} crate)`, async () => {
          const db = await fresh();
          const alice = await db.users.createUser('alice', false);
          if (existing) await db.crates.publishVersion(newVersion('racy', '0.1.0', alice.id));
          const results = await Promise.allSettled(
            Array.from({ length: 8 }, () => db.crates.publishVersion(newVersion('racy', '1.0.0', alice.id))),
          );
          assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results));
          for (const r of results) {
            if (r.status === 'rejected') await rejectsWith(Promise.reject(r.reason as Error), 'conflict', 'version-exists');
          }
          assert.deepEqual(await versionsOf(db, 'racy'), existing ? ['0.1.0', '1.0.0'] : ['1.0.0']);
        });
      }

      it('lets concurrent first publishes of different versions of a new crate all succeed', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const bob = await db.users.createUser('bob', false);
        const results = await Promise.allSettled([
          db.crates.publishVersion(newVersion('fresh', '1.0.0', alice.id)),
          db.crates.publishVersion(newVersion('fresh', '1.0.1', alice.id)),
          db.crates.publishVersion(newVersion('fresh', '1.0.2', alice.id)),
        ]);
        assert.deepEqual(
          results.map((r) => r.status),
          ['fulfilled', 'fulfilled', 'fulfilled'],
          JSON.stringify(results),
        );
        assert.deepEqual(results.map((r) => (r.status === 'fulfilled' ? r.value.newCrate : undefined)).filter(Boolean), [true]);
        assert.deepEqual((await versionsOf(db, 'fresh'))?.sort(), ['1.0.0', '1.0.1', '1.0.2']);
        await assertIndexFileMatches(db, 'fresh');
        // Whoever loses the race to create a crate gets the answer it would have got a moment later.
        const late = await Promise.allSettled([
          db.crates.publishVersion(newVersion('other', '1.0.0', alice.id)),
          db.crates.publishVersion(newVersion('Other', '1.0.0', alice.id)),
          db.crates.publishVersion(newVersion('other', '2.0.0', bob.id)),
        ]);
        assert.equal(late.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(late));
      });

      it('yanks and unyanks; unknown crates and versions return false', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        await db.crates.publishVersion(newVersion('Serde', '1.0.0', alice.id));
        await db.crates.publishVersion(newVersion('Serde', '1.1.0', alice.id));
        const unyanked = (await db.crates.readIndexFile('serde', 'identity'))!;
        assert.equal(await db.crates.setYanked('serde', '1.0.0', true), true);
        assert.deepEqual(await versionsOf(db, 'serde'), ['1.0.0 (yanked)', '1.1.0']);
        const yanked = await assertIndexFileMatches(db, 'serde');
        assert.notEqual(yanked.etag, unyanked.etag, 'the ETag follows the bytes');
        // Yanking twice changes nothing, and the file stays right.
        assert.equal(await db.crates.setYanked('serde', '1.0.0', true), true);
        assert.deepEqual(await db.crates.readIndexFile('serde', 'identity'), yanked);
        assert.equal(await db.crates.setYanked('serde', '1.0.0', false), true);
        assert.deepEqual(await versionsOf(db, 'serde'), ['1.0.0', '1.1.0']);
        assert.deepEqual(await assertIndexFileMatches(db, 'serde'), unyanked, 'back to the same bytes and ETag');
        assert.equal(await db.crates.setYanked('serde', '9.9.9', true), false);
        assert.equal(await db.crates.setYanked('nope', '1.0.0', true), false);
      });

      it('keeps the stored index file whole under concurrent publishes and yanks of one crate', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        for (let i = 0; i < 5; i++) await db.crates.publishVersion(newVersion('busy', `1.0.${i}`, alice.id));
        const changes = [
          ...Array.from({ length: 5 }, (_, i) => db.crates.publishVersion(newVersion('busy', `2.0.${i}`, alice.id))),
          ...Array.from({ length: 5 }, (_, i) => db.crates.setYanked('busy', `1.0.${i}`, true)),
        ];
        const results = await Promise.allSettled(changes);
        assert.deepEqual(
          results.map((r) => r.status),
          Array.from({ length: 10 }, () => 'fulfilled'),
          JSON.stringify(results),
        );
        assert.equal((await versionsOf(db, 'busy'))!.length, 10);
        const file = await assertIndexFileMatches(db, 'busy');
        assert.equal(file.body.toString().match(/"yanked":true/g)?.length, 5);
        assert.ok(file.body.length >= MIN_GZIP_BYTES, 'large enough to have a gzip form, which was checked');
      });

      it("finds a version's blob and a crate's exact-case name", async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const v = newVersion('My-Crate', '1.0.0', alice.id);
        await db.crates.publishVersion(v);
        assert.deepEqual(await db.crates.findVersionBlob('my-crate', '1.0.0'), { blobKey: v.blobKey, size: v.size, cksum: v.entry.cksum });
        assert.equal(await db.crates.findVersionBlob('my-crate', '2.0.0'), undefined);
        assert.equal(await db.crates.findVersionBlob('nope', '1.0.0'), undefined);
        assert.equal(await db.crates.findCrateName('my_crate'), 'My-Crate');
        assert.equal(await db.crates.findCrateName('nope'), undefined);
      });
    });

    describe('owners', () => {
      it('adds owners (twice is harmless), lists them by login, removes them', async () => {
        const db = await fresh();
        const carol = await db.users.createUser('carol', false);
        const alice = await db.users.createUser('alice', false);
        const bob = await db.users.createUser('bob', false);
        await db.crates.publishVersion(newVersion('serde', '1.0.0', carol.id));
        await db.owners.addOwners('serde', [bob.id, alice.id]);
        await db.owners.addOwners('serde', [bob.id]);
        assert.deepEqual(loginsOf(await db.owners.listOwners('serde')), ['alice', 'bob', 'carol']);
        await db.owners.removeOwners('serde', [carol.id, bob.id]);
        assert.deepEqual(loginsOf(await db.owners.listOwners('serde')), ['alice']);
        // A new owner may publish; a removed one may not.
        await db.crates.publishVersion(newVersion('serde', '1.0.1', alice.id));
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '1.0.2', bob.id)), 'forbidden', 'not-an-owner');
      });

      it('refuses to remove the last owner and leaves the owners as they were', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const bob = await db.users.createUser('bob', false);
        await db.crates.publishVersion(newVersion('serde', '1.0.0', alice.id));
        await db.owners.addOwners('serde', [bob.id]);
        await rejectsWith(db.owners.removeOwners('serde', [alice.id, bob.id]), 'conflict', 'last-owner');
        assert.deepEqual(loginsOf(await db.owners.listOwners('serde')), ['alice', 'bob']);
        await db.owners.removeOwners('serde', [bob.id]);
        await rejectsWith(db.owners.removeOwners('serde', [alice.id]), 'conflict', 'last-owner');
        assert.deepEqual(loginsOf(await db.owners.listOwners('serde')), ['alice']);
      });

      it('lets a group own a crate: its members publish, and it counts as an owner', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const bob = await db.users.createUser('bob', false);
        await db.crates.publishVersion(newVersion('serde', '1.0.0', alice.id));
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '1.0.1', bob.id)), 'forbidden', 'not-an-owner');
        await db.owners.addOwners('serde', [], ['core']);
        await db.owners.addOwners('serde', [], ['core']);
        assert.deepEqual(await db.owners.listOwnerGroups('serde'), ['core']);
        assert.equal(await db.owners.listOwnerGroups('nope'), undefined);
        await rejectsWith(db.crates.publishVersion(newVersion('serde', '1.0.1', bob.id)), 'forbidden', 'not-an-owner');
        await db.groups.addGroupMember('core', bob.id);
        await db.crates.publishVersion(newVersion('serde', '1.0.1', bob.id));
        // With the group left, the last user may go; the group may not go last.
        await db.owners.removeOwners('serde', [alice.id]);
        assert.deepEqual(loginsOf(await db.owners.listOwners('serde')), []);
        await rejectsWith(db.owners.removeOwners('serde', [], ['core']), 'conflict', 'last-owner');
        assert.deepEqual(await db.owners.listOwnerGroups('serde'), ['core']);
      });
    });

    describe('search', () => {
      const seed = async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        const crates: [string, string | null][] = [
          ['toml', 'A SERDE-compatible TOML decoder'],
          ['serde_json', 'JSON for serde'],
          ['miniserde', null],
          ['Serde', 'A generic serialization framework'],
          ['ab', '100% safe'],
          ['a1b', 'nothing special'],
        ];
        for (const [n, description] of crates) await db.crates.publishVersion(newVersion(n, '1.0.0', alice.id, { description }));
        await db.crates.publishVersion(newVersion('Serde', '1.1.0', alice.id, { description: 'A generic serialization framework' }));
        await db.crates.setYanked('serde', '1.0.0', true);
        return db;
      };
      const names = async (db: MetadataDatabase, q: string, limit = 50, offset = 0) => {
        const { total, hits } = await db.search.searchCrates(q, limit, offset);
        return { total, names: hits.map((h) => h.name) };
      };

      it('matches names and descriptions case-insensitively: exact, then prefix, then the rest by name', async () => {
        const db = await seed();
        assert.deepEqual(await names(db, 'SERDE'), { total: 4, names: ['Serde', 'serde_json', 'miniserde', 'toml'] });
        assert.deepEqual(await names(db, 'decoder'), { total: 1, names: ['toml'] });
        assert.deepEqual(await names(db, 'zzz'), { total: 0, names: [] });
        const [serde] = (await db.search.searchCrates('serde', 1, 0)).hits;
        assert.equal(serde!.description, 'A generic serialization framework');
        assert.equal(serde!.maxVersion, '1.1.0');
      });

      it('shows each crate at the version it stores, kept by publishes, yanks and unyanks', async () => {
        const db = await seed();
        const alice = (await db.users.findUserByLogin('alice'))!;
        const shown = async () => (await db.search.searchCrates('shown', 1, 0)).hits[0]!.maxVersion;
        await db.crates.publishVersion(newVersion('shown', '1.0.0', alice.id));
        assert.equal(await shown(), '1.0.0');
        await db.crates.publishVersion(newVersion('shown', '2.0.0-beta.1', alice.id));
        assert.equal(await shown(), '1.0.0', 'a pre-release is not shown over a stable version');
        await db.crates.publishVersion(newVersion('shown', '1.10.0', alice.id));
        assert.equal(await shown(), '1.10.0', 'compared as versions, not as text');
        await db.crates.setYanked('shown', '1.10.0', true);
        assert.equal(await shown(), '1.0.0');
        await db.crates.setYanked('shown', '1.0.0', true);
        assert.equal(await shown(), '2.0.0-beta.1', 'the pre-release once no stable version is live');
        await db.crates.setYanked('shown', '2.0.0-beta.1', true);
        assert.equal(await shown(), '2.0.0-beta.1', 'all yanked: the highest');
        await db.crates.setYanked('shown', '1.10.0', false);
        assert.equal(await shown(), '1.10.0');
      });

      it('takes % and _ literally', async () => {
        const db = await seed();
        assert.deepEqual(await names(db, '_'), { total: 1, names: ['serde_json'] });
        // Shorter than three characters: names only (crate-search.contract.ts), so not `ab`'s "100% safe".
        assert.deepEqual(await names(db, '%'), { total: 0, names: [] });
        assert.deepEqual(await names(db, 'a_b'), { total: 0, names: [] });
        assert.deepEqual(await names(db, '0% s'), { total: 1, names: ['ab'] });
      });

      it('pages through the hits with a stable total', async () => {
        const db = await seed();
        assert.deepEqual(await names(db, 'serde', 2, 0), { total: 4, names: ['Serde', 'serde_json'] });
        assert.deepEqual(await names(db, 'serde', 2, 2), { total: 4, names: ['miniserde', 'toml'] });
        assert.deepEqual(await names(db, 'serde', 2, 4), { total: 4, names: [] });
      });
    });
  });
}
