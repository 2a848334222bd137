// The CrateSearch contract on a real PostgreSQL 15 (pg_trgm): one server for this file, an empty
// database per test.

import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { MIGRATIONS } from '../../src/adapters/metadata/migrations.js';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';
import { crateSearchContract } from './crate-search.contract.js';
import { migrateBefore } from './migrate-before.js';

const postgres = postgresServerForTests();

crateSearchContract('postgres', {
  open: async () => openPostgresDatabase(await postgres().createDatabase()),
  async openBeforeSearchIndex() {
    const url = await postgres().createDatabase();
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
