// The shared rate limits on a real PostgreSQL 15: one server for this file, an empty database per test.

import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';
import { sharedRateLimitsContract } from './shared-rate-limits.contract.js';

const postgres = postgresServerForTests();

sharedRateLimitsContract('postgres', async () => {
  const database = await openPostgresDatabase(await postgres().createDatabase());
  return { db: database.db, close: () => database.close() };
});
