// The shared rate limits on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { sharedRateLimitsContract } from './shared-rate-limits.contract.js';

const dir = makeTempDir('cratekeeper-rate-limits-sqlite-');
let databases = 0;

sharedRateLimitsContract('sqlite', async () => {
  const database = await openSqliteDatabase(join(dir, `limits-${++databases}.sqlite`));
  return { db: database.db, close: () => database.close() };
});
