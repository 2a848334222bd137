// The CrateSearch contract on a real PostgreSQL 15 (pg_trgm): one server for this file, an empty
// database per test.

import { after, before } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { MIGRATIONS } from '../../src/adapters/metadata/migrations.js';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { crateSearchContract } from './crate-search.contract.js';
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

crateSearchContract('postgres', {
  open: async () => openPostgresDatabase(await started().createDatabase()),
  async openBeforeSearchIndex() {
    const url = await started().createDatabase();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an older schema than the typed one
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) });
    await migrateBefore(db, 'postgres', 8, MIGRATIONS);
    return {
      db,
      async upgrade() {
        await db.destroy();
        return openPostgresDatabase(url, { migrations: 'apply' });
      },
    };
  },
});
