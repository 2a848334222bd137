// The DownloadCounts contract on a real PostgreSQL 15: one server for this file, an empty
// database per test.

import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';
import { countsBeforeVersionTotals, countsOf, downloadCountsContract } from './download-counts.contract.js';

const postgres = postgresServerForTests();

downloadCountsContract(
  'postgres',
  async () => countsOf(await openPostgresDatabase(await postgres().createDatabase())),
  async () => {
    const url = await postgres().createDatabase();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    return countsBeforeVersionTotals(db, 'postgres', () => openPostgresDatabase(url, { migrations: 'apply' }));
  },
);
