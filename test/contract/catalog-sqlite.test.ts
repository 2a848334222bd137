// The Catalog contract on SQLite, a fresh database file per test.

import { join } from 'node:path';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { catalogContract } from './catalog.contract.js';

const dir = makeTempDir('cratekeeper-catalog-sqlite-');
let databases = 0;

catalogContract('sqlite', () => openSqliteDatabase(join(dir, `catalog-${++databases}.sqlite`)));
