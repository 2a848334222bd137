// The DownloadCounts contract on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { downloadCountsContract } from './download-counts.contract.js';

const dir = makeTempDir('cratekeeper-downloads-sqlite-');
let databases = 0;

downloadCountsContract('sqlite', async () => {
  const database = await openSqliteDatabase(join(dir, `downloads-${++databases}.sqlite`));
  return { counts: database.downloadCounts, close: () => database.close() };
});
