// The DownloadCounts contract on a real PostgreSQL 15: one server for this file, an empty
// database per test.

import { after, before } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { countsBeforeVersionTotals, countsOf, downloadCountsContract } from './download-counts.contract.js';

let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgresServer();
});
after(async () => {
  await server?.stop();
});

const started = () => {
  if (!server) throw new Error('PostgreSQL did not start (see the failure of the `before` hook)');
  return server;
};

downloadCountsContract(
  'postgres',
  async () => countsOf(await openPostgresDatabase(await started().createDatabase())),
  async () => {
    const url = await started().createDatabase();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    return countsBeforeVersionTotals(db, 'postgres', () => openPostgresDatabase(url, { migrations: 'apply' }));
  },
);
