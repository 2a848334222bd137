// The identity store contract on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { openSqliteStore } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '../support/temp-dir.js';
import { identityStoreContract } from './identity-store.contract.js';

const dir = makeTempDir('cratekeeper-identity-sqlite-');
let databases = 0;

identityStoreContract('sqlite', () => openSqliteStore(join(dir, `identity-${++databases}.sqlite`)));
