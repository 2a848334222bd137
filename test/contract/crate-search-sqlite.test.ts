// The CrateSearch contract on SQLite (FTS5 with the trigram tokenizer), a fresh database file per test.

import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { MIGRATIONS } from '../../src/adapters/metadata/migrations.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { crateSearchContract } from './crate-search.contract.js';
import { migrateBefore } from './migrate-before.js';

const dir = makeTempDir('cratekeeper-search-sqlite-');
let databases = 0;

crateSearchContract('sqlite', {
  open: () => openSqliteDatabase(join(dir, `search-${++databases}.sqlite`)),
  async openBeforeSearchIndex() {
    const file = join(dir, `search-${++databases}.sqlite`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an older schema than the typed one
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: openSqliteConnection(file) }) });
    await migrateBefore(db, 'sqlite', 8, MIGRATIONS);
    return {
      db,
      async upgrade() {
        await db.destroy();
        return openSqliteDatabase(file, { migrations: 'apply' });
      },
    };
  },
});
