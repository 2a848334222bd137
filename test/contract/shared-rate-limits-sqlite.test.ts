// The shared rate limits on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '../support/temp-dir.js';
import { sharedRateLimitsContract } from './shared-rate-limits.contract.js';

const dir = makeTempDir('cratekeeper-rate-limits-sqlite-');
let databases = 0;

sharedRateLimitsContract('sqlite', async () => {
  const store = await openSqliteStore(join(dir, `limits-${++databases}.sqlite`));
  return { db: store.db, close: () => store.close() };
});
