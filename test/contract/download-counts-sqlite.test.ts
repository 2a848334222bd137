// The DownloadCounts contract on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import { MIGRATIONS } from '../../src/adapters/metadata/migrations.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { downloadCountsContract } from './download-counts.contract.js';
import { migrateBefore } from './migrate-before.js';

const dir = makeTempDir('cratekeeper-downloads-sqlite-');
let databases = 0;

downloadCountsContract(
  'sqlite',
  async () => {
    const database = await openSqliteDatabase(join(dir, `downloads-${++databases}.sqlite`));
    return { counts: database.downloadCounts, close: () => database.close() };
  },
  async () => {
    const file = join(dir, `downloads-${++databases}.sqlite`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an older schema than the typed one
    const db = new Kysely<any>({ dialect: new SqliteDialect({ database: openSqliteConnection(file) }) });
    await migrateBefore(db, 'sqlite', 20, MIGRATIONS);
    return {
      addHistory: async (rows) =>
        void (await db
          .insertInto('version_downloads')
          .values([...rows])
          .execute()),
      async upgrade() {
        await db.destroy();
        const database = await openSqliteDatabase(file, { migrations: 'apply' });
        return { counts: database.downloadCounts, close: () => database.close() };
      },
    };
  },
);
