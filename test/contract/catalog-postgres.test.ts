// The Catalog contract on a real PostgreSQL 15: one server for this file, an empty database per test.

import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';
import { catalogContract } from './catalog.contract.js';

const postgres = postgresServerForTests();

catalogContract('postgres', async () => {
  return openPostgresDatabase(await postgres().createDatabase());
});
