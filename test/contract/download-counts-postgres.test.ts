// The DownloadCounts contract on a real PostgreSQL 15: one server for this file, an empty
// database per test.

import { after, before } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { MIGRATIONS } from '../../src/adapters/metadata/migrations.js';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { downloadCountsContract } from './download-counts.contract.js';
import { migrateBefore } from './migrate-before.js';

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
  async () => {
    const database = await openPostgresDatabase(await started().createDatabase());
    return { counts: database.downloadCounts, close: () => database.close() };
  },
  async () => {
    const url = await started().createDatabase();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an older schema than the typed one
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    await migrateBefore(db, 'postgres', 20, MIGRATIONS);
    return {
      addHistory: async (rows) =>
        void (await db
          .insertInto('version_downloads')
          .values([...rows])
          .execute()),
      async upgrade() {
        await db.destroy();
        const database = await openPostgresDatabase(url, { migrations: 'apply' });
        return { counts: database.downloadCounts, close: () => database.close() };
      },
    };
  },
);
