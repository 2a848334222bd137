// The MetadataStore contract against the embedded SQLite store, a fresh database file per test
// (opened twice, as by the server and the CLI, for the change-feed race).

import { join } from 'node:path';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '../support/temp-dir.js';
import { metadataStoreContract } from './metadata-store.contract.js';

const dir = makeTempDir('cratekeeper-contract-sqlite-');
let databases = 0;

metadataStoreContract('sqlite', () => openSqliteStore(join(dir, `metadata-${++databases}.sqlite`)), {
  async openTwin() {
    const file = join(dir, `metadata-${++databases}.sqlite`);
    return [await openSqliteStore(file), await openSqliteStore(file)];
  },
});
