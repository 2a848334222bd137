// The CrateSearch contract on SQLite (FTS5 with the trigram tokenizer), a fresh database file per test.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Kysely, SqliteDialect } from 'kysely';
import { MIGRATIONS } from '../../src/adapters/metadata/migrations.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { crateSearchContract } from './crate-search.contract.js';
import { migrateBefore } from './migrate-before.js';
import { newVersion } from './repository-fixtures.js';

const dir = makeTempDir('cratekeeper-search-sqlite-');
let databases = 0;

/** The contract on the server's own connection, and as a serving process opens the database: its searches on the reader thread. */
for (const writerThread of [false, true]) {
  crateSearchContract(writerThread ? 'sqlite, reader thread' : 'sqlite', {
    open: () => openSqliteDatabase(join(dir, `search-${++databases}.sqlite`), { writerThread }),
    async openBeforeSearchIndex() {
      const file = join(dir, `search-${++databases}.sqlite`);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an older schema than the typed one
      const db = new Kysely<any>({ dialect: new SqliteDialect({ database: openSqliteConnection(file) }) });
      await migrateBefore(db, 'sqlite', 8, MIGRATIONS);
      return {
        db,
        async upgrade() {
          await db.destroy();
          return openSqliteDatabase(file, { migrations: 'apply', writerThread });
        },
      };
    },
  });
}

describe('searches of a serving process (SQLite)', () => {
  it('run on the reader thread, never on the connection that serves requests', async () => {
    const database = await openSqliteDatabase(join(dir, `search-${++databases}.sqlite`), { writerThread: true });
    try {
      const alice = await database.users.createUser('alice', false);
      await database.crates.publishVersion(newVersion('threaded', '1.2.0', alice.id, { description: 'searched elsewhere' }));
      // The serving connection refuses every statement from here on: a search that used it would fail.
      const serving = database.db as unknown as { executeQuery: unknown };
      serving.executeQuery = () => Promise.reject(new Error('a search ran on the serving connection'));
      for (const q of ['', 'threaded', 'elsewhere', 'th']) {
        const { total, hits } = await database.search.searchCrates(q, 10, 0);
        assert.deepEqual([total, hits.map((h) => [h.name, h.maxVersion])], [1, [['threaded', '1.2.0']]], q);
      }
      assert.deepEqual(await database.search.searchCrates('threaded', 10, 5), { total: 1, hits: [] }, 'a page past the end');
      delete (serving as { executeQuery?: unknown }).executeQuery;
    } finally {
      await database.close();
    }
  });
});
