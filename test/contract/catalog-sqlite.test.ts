// The Catalog contract on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { SqlCatalog } from '../../src/adapters/metadata/sql-catalog.js';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '../support/temp-dir.js';
import { catalogContract } from './catalog.contract.js';

const dir = makeTempDir('cratekeeper-catalog-sqlite-');
let databases = 0;

catalogContract('sqlite', async () => {
  const store = await openSqliteStore(join(dir, `catalog-${++databases}.sqlite`));
  return { catalog: new SqlCatalog(store.db), store, close: () => store.close() };
});
