// The Catalog contract (the web pages' read models): a crate with its versions and publishers, one
// version's details, which names are local crates, and the users with their groups, sign-in
// methods and live tokens. Run against SQLite and PostgreSQL by the catalog-*.test.ts files.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';
import { newVersion } from './repository-fixtures.js';

export function catalogContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`Catalog contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    it('reads a crate with its versions in publish order, their publishers, and one version’s details', async () => {
      const db = await fresh();
      const catalog = db.catalog;
      const alice = await db.users.createUser('alice', false);
      await db.crates.publishVersion(newVersion('Widget', '1.0.0', alice.id, { description: 'first' }));
      await db.crates.publishVersion(newVersion('Widget', '0.9.0', alice.id, { description: 'older line' }));
      await db.crates.setYanked('widget', '0.9.0', true);
      const crate = await catalog.crate('widget');
      assert.equal(crate?.name, 'Widget');
      assert.deepEqual(
        crate?.versions.map((v) => [v.entry.vers, v.yanked, v.publishedBy, typeof v.publishedAt]),
        [
          ['1.0.0', false, 'alice', 'string'],
          ['0.9.0', true, 'alice', 'string'],
        ],
      );
      assert.equal((await catalog.versionDetails('widget', '0.9.0'))?.description, 'older line');
      assert.deepEqual((await catalog.versionDetails('widget', '0.9.0'))?.keywords, []);
      assert.equal(await catalog.versionDetails('widget', '3.0.0'), undefined);
      assert.equal(await catalog.crate('nothing'), undefined);
    });

    it('finds which names are local crates, by lower-case name, in any number', async () => {
      const db = await fresh();
      const catalog = db.catalog;
      const alice = await db.users.createUser('alice', false);
      await db.crates.publishVersion(newVersion('Serde_Json', '1.0.0', alice.id));
      const many = Array.from({ length: 450 }, (_, i) => `missing-${i}`);
      const found = await catalog.existingCrates([...many, 'serde_json', 'serde_json']);
      assert.deepEqual([...found], [['serde_json', 'Serde_Json']]);
      assert.deepEqual([...(await catalog.existingCrates([]))], []);
    });

    it('lists users with groups by source, sign-in methods and live tokens only', async () => {
      const db = await fresh();
      const catalog = db.catalog;
      const admin = await db.users.createUser('admin', true);
      const bob = await db.users.createUserWithIdentity('bob', 'https://idp.example', 'sub-7');
      await db.users.setPasswordHash(admin.id, 'argon2-hash');
      await db.groups.addGroupMember('core', admin.id);
      await db.groups.replaceGroups(bob.id, 'oidc', ['devs']);
      await db.tokens.insertToken({ userId: admin.id, name: 'live', hash: 'h1', expiresAt: null });
      await db.tokens.insertToken({ userId: admin.id, name: 'expired', hash: 'h2', expiresAt: '2001-01-01T00:00:00.000Z' });
      const revoked = await db.tokens.insertToken({ userId: admin.id, name: 'revoked', hash: 'h3', expiresAt: null });
      await db.tokens.revokeToken(revoked.id);
      const users = await catalog.users();
      assert.deepEqual(
        users.map((u) => ({
          login: u.login,
          isAdmin: u.isAdmin,
          hasPassword: u.hasPassword,
          groups: u.groups,
          identities: u.identities,
          activeTokens: u.activeTokens,
        })),
        [
          {
            login: 'admin',
            isAdmin: true,
            hasPassword: true,
            groups: [{ name: 'core', source: 'local' }],
            identities: [],
            activeTokens: 1,
          },
          {
            login: 'bob',
            isAdmin: false,
            hasPassword: false,
            groups: [{ name: 'devs', source: 'oidc' }],
            identities: ['https://idp.example sub-7'],
            activeTokens: 0,
          },
        ],
      );
    });
  });
}
