// The DownloadCounts contract on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { countsBeforeVersionTotals, countsOf, downloadCountsContract } from './download-counts.contract.js';

const dir = makeTempDir('cratekeeper-downloads-sqlite-');
let databases = 0;

downloadCountsContract(
  'sqlite',
  async () => countsOf(await openSqliteDatabase(join(dir, `downloads-${++databases}.sqlite`))),
  () => {
    const file = join(dir, `downloads-${++databases}.sqlite`);
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: openSqliteConnection(file) }) });
    return countsBeforeVersionTotals(db, 'sqlite', () => openSqliteDatabase(file, { migrations: 'apply' }));
  },
);
