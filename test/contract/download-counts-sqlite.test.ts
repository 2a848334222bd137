// The DownloadCounts contract on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite.js';
import { SqlDownloadCounts } from '../../src/adapters/metadata/sql-download-counts.js';
import { makeTempDir } from '../support/temp-dir.js';
import { downloadCountsContract } from './download-counts.contract.js';

const dir = makeTempDir('cratekeeper-downloads-sqlite-');
let databases = 0;

downloadCountsContract('sqlite', async () => {
  const store = await openSqliteStore(join(dir, `downloads-${++databases}.sqlite`));
  return { counts: new SqlDownloadCounts(store.db), close: () => store.close() };
});
