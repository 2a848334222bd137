// The MetadataDatabase contract, beside its repositories' own: a unit of work commits what every
// repository wrote in it together, or nothing; atomic operations inside it join its transaction;
// the schema state; and the tables as rows (export and import), ids kept. Run against SQLite and
// PostgreSQL by metadata-repositories-*.test.ts; each test opens a fresh, empty database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';
import type { TableRow } from '../../src/ports/registry-tables.js';
import { newVersion, rejectsWith } from './repository-fixtures.js';

async function* each(rows: TableRow[]): AsyncGenerator<TableRow> {
  yield* rows;
}

async function collect(rows: AsyncIterable<TableRow>): Promise<TableRow[]> {
  const all: TableRow[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

export function metadataDatabaseContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`MetadataDatabase contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    describe('units of work', () => {
      it('commits the writes of every repository in it together', async () => {
        const db = await fresh();
        const start = await db.changes.latestChangeSeq();
        const result = await db.transaction(async (tx) => {
          const alice = await tx.users.createUser('alice', false);
          await tx.groups.addGroupMember('core', alice.id);
          await tx.crates.publishVersion(newVersion('Serde', '1.0.0', alice.id));
          await tx.owners.addOwners('serde', [], ['core']);
          // The work sees its own writes before they commit.
          assert.deepEqual(
            (await tx.crates.listVersions('serde'))?.map((v) => v.entry.vers),
            ['1.0.0'],
          );
          return alice.id;
        });
        const alice = await db.users.findUserByLogin('alice');
        assert.equal(alice?.id, result);
        assert.deepEqual(
          (await db.groups.listGroupMembers('core')).map((u) => u.login),
          ['alice'],
        );
        assert.deepEqual(
          (await db.crates.listVersions('serde'))?.map((v) => v.entry.vers),
          ['1.0.0'],
        );
        assert.deepEqual(
          (await db.owners.listOwners('serde'))?.map((u) => u.login),
          ['alice'],
        );
        assert.deepEqual(await db.owners.listOwnerGroups('serde'), ['core']);
        assert.deepEqual(
          (await db.changes.changesSince(start)).map((c) => `${c.kind}:${c.subject}`),
          [`user:${result}`, 'crate:serde', 'crate:serde'],
        );
      });

      it('leaves nothing of any repository behind when the work throws', async () => {
        const db = await fresh();
        const bob = await db.users.createUser('bob', false);
        const start = await db.changes.latestChangeSeq();
        await assert.rejects(
          db.transaction(async (tx) => {
            const alice = await tx.users.createUser('alice', false);
            await tx.tokens.insertToken({ userId: alice.id, name: 'ci', hash: 'h1', expiresAt: null });
            await tx.groups.addGroupMember('core', bob.id);
            await tx.crates.publishVersion(newVersion('serde', '1.0.0', alice.id));
            await tx.downloadCounts.add([{ crate: 'serde', version: '1.0.0', day: '2030-01-01', count: 3 }]);
            throw new Error('the work failed');
          }),
          /the work failed/,
        );
        assert.equal(await db.users.countUsers(), 1);
        assert.equal(await db.users.findUserByLogin('alice'), undefined);
        assert.equal(await db.tokens.findPrincipalByTokenHash('h1'), undefined);
        assert.deepEqual(await db.groups.listGroupMembers('core'), []);
        assert.equal(await db.crates.listVersions('serde'), undefined);
        assert.deepEqual(await db.downloadCounts.perVersion('serde'), []);
        assert.deepEqual(await db.changes.changesSince(start), []);
      });

      it('makes an atomic operation that fails inside it fail the whole unit', async () => {
        const db = await fresh();
        const alice = await db.users.createUser('alice', false);
        await db.crates.publishVersion(newVersion('serde', '1.0.0', alice.id));
        const start = await db.changes.latestChangeSeq();
        await rejectsWith(
          db.transaction(async (tx) => {
            await tx.crates.setYanked('serde', '1.0.0', true);
            await tx.owners.removeOwners('serde', [alice.id]);
          }),
          'conflict',
          'last-owner',
        );
        assert.deepEqual(
          (await db.crates.listVersions('serde'))?.map((v) => v.yanked),
          [false],
        );
        assert.deepEqual(await db.changes.changesSince(start), []);
      });
    });

    it('knows its schema: every migration of this build applied, none missing', async () => {
      const db = await fresh();
      const state = await db.schemaState();
      assert.ok(state.applied.length > 0);
      assert.deepEqual(
        [...state.applied].sort((a, b) => a - b),
        state.applied,
      );
      assert.deepEqual(state.missing, []);
      assert.deepEqual(state.unknown, []);
    });

    describe('tables as rows', () => {
      it('lists tables with their columns and reads rows as stored', async () => {
        const db = await fresh();
        const columns = await db.tables.columns();
        assert.deepEqual(columns.get('users')?.sort(), ['created_at', 'disabled_at', 'id', 'is_admin', 'login', 'password_hash']);
        assert.ok(columns.has('version_downloads') && columns.has('changes'));
        assert.equal(await db.tables.hasRows('users'), false);
        const alice = await db.users.createUser('alice', true);
        assert.equal(await db.tables.hasRows('users'), true);
        const rows = await collect(db.tables.rows('users', columns.get('users')!));
        assert.deepEqual(
          rows.map((r) => [Number(r.id), r.login, Number(r.is_admin)]),
          [[alice.id, 'alice', 1]],
        );
        await db.downloadCounts.add([
          { crate: 'b', version: '1.0.0', day: '2030-01-01', count: 1 },
          { crate: 'a', version: '1.0.0', day: '2030-01-02', count: 2 },
        ]);
        const counts = await collect(db.tables.rows('version_downloads', columns.get('version_downloads')!));
        assert.deepEqual(
          counts.map((r) => `${String(r.crate)} ${Number(r.count)}`),
          ['a 2', 'b 1'],
        );
      });

      it('loads rows with their ids in one transaction; new ids continue after them', async () => {
        const db = await fresh();
        const loaded = await db.tables.load(['users', 'tokens'], (table) =>
          each(
            table === 'users'
              ? [
                  { id: 7, login: 'alice', is_admin: 0, created_at: '2030-01-01T00:00:00.000Z', password_hash: null, dropped_column: 'x' },
                  { id: 9, login: 'bob', is_admin: 1, created_at: '2030-01-01T00:00:00.000Z', password_hash: null },
                ]
              : [
                  {
                    id: 3,
                    user_id: 9,
                    name: 'ci',
                    token_hash: 'h1',
                    created_at: '2030-01-01T00:00:00.000Z',
                    last_used_at: null,
                    expires_at: null,
                    revoked_at: null,
                    scopes: null,
                    crate_patterns: null,
                    origin: null,
                  },
                ],
          ),
        );
        assert.equal(loaded, 3);
        assert.deepEqual((await db.tokens.findPrincipalByTokenHash('h1'))?.login, 'bob');
        assert.equal((await db.users.createUser('carol', false)).id, 10);
        assert.equal((await db.tokens.insertToken({ userId: 7, name: 'new', hash: 'h2', expiresAt: null })).id, 4);
      });

      it("rebuilds each crate's download total from the loaded history, whatever the archive said", async () => {
        const crate = (id: number, name: string) => ({
          id,
          name,
          name_lower: name,
          name_normalized: name,
          description: null,
          created_at: '2030-01-01T00:00:00.000Z',
          updated_at: '2030-01-01T00:00:00.000Z',
        });
        const history = [
          { crate: 'serde', version: '1.0.0', day: '2030-01-01', count: 3 },
          { crate: 'serde', version: '1.0.1', day: '2030-01-02', count: 4 },
        ];
        // An archive from before the total existed, and one whose totals its history does not back.
        for (const said of [{}, { downloads: 99 }]) {
          const db = await fresh();
          await db.tables.load(['crates', 'version_downloads'], (table) =>
            each(
              table === 'crates'
                ? [
                    { ...crate(1, 'serde'), ...said },
                    { ...crate(2, 'tokio'), ...said },
                  ]
                : history,
            ),
          );
          const columns = (await db.tables.columns()).get('crates')!;
          const totals = (await collect(db.tables.rows('crates', columns))).map((r) => `${String(r.name)} ${Number(r.downloads)}`);
          assert.deepEqual(totals.sort(), ['serde 7', 'tokio 0'], JSON.stringify(said));
        }
      });

      it('loads nothing when a row of a later table is refused', async () => {
        const db = await fresh();
        const user = { id: 1, login: 'alice', is_admin: 0, created_at: '2030-01-01T00:00:00.000Z', password_hash: null };
        const token = {
          user_id: 1,
          name: 'ci',
          created_at: '2030-01-01T00:00:00.000Z',
          last_used_at: null,
          expires_at: null,
          revoked_at: null,
          scopes: null,
          crate_patterns: null,
          origin: null,
        };
        const twice = [
          { id: 1, token_hash: 'h1', ...token },
          { id: 1, token_hash: 'h2', ...token },
        ];
        await assert.rejects(db.tables.load(['users', 'tokens'], (table) => each(table === 'users' ? [user] : twice)));
        assert.equal(await db.tables.hasRows('users'), false);
        assert.equal(await db.tables.hasRows('tokens'), false);
      });
    });
  });
}
