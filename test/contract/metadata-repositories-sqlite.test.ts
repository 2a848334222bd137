// The repository contracts and the MetadataDatabase contract against the embedded SQLite database,
// a fresh database file per test (opened twice, as by the server and the CLI, for the change-log
// race).

import { join } from 'node:path';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { changeLogContract } from './change-log.contract.js';
import { cratesContract } from './crates.contract.js';
import { deviceFlowContract } from './device-flow.contract.js';
import { identityContract } from './identity.contract.js';
import { metadataDatabaseContract } from './metadata-database.contract.js';
import { policyStoreContract } from './policy-store.contract.js';
import { tokensContract } from './tokens.contract.js';

const dir = makeTempDir('cratekeeper-contract-sqlite-');
let databases = 0;
const open = () => openSqliteDatabase(join(dir, `metadata-${++databases}.sqlite`));

identityContract('sqlite', open);
tokensContract('sqlite', open);
deviceFlowContract('sqlite', open);
cratesContract('sqlite', open);
changeLogContract('sqlite', open, {
  async openTwin() {
    const file = join(dir, `metadata-${++databases}.sqlite`);
    return [await openSqliteDatabase(file), await openSqliteDatabase(file)];
  },
});
metadataDatabaseContract('sqlite', open);
policyStoreContract('sqlite', open);
