// PostgreSQL for deployments with several replicas: the same SqlMetadataStore over Kysely's
// PostgresDialect and a `pg` pool. Two things differ from SQLite and are handled here:
// - A `serial` value is taken at insert time, not at commit time, so a writer holding seq 7 may
//   commit after another's seq 8 was already read, and a poller asking for `seq > 8` would never
//   see 7. Every writer of `changes` therefore takes one transaction-scoped advisory lock just
//   before its insert and keeps it until commit: seq order is then commit order, and a poller
//   that has seen seq N has seen every committed change below N.
// - Replicas that start together would race to migrate; a session advisory lock lets one do it.

import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { prepareSchema, type MigrationPolicy } from './migrations.js';
import type { Database } from './sql-schema.js';
import { SqlMetadataStore } from './sql-store.js';

// Arbitrary constants that name the two locks; any other user of advisory locks must avoid them.
const CHANGE_FEED_LOCK = 0x636b_0001;
const MIGRATION_LOCK = 0x636b_0002;

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

async function serializeChangeWriters(tx: Kysely<Database>): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(CHANGE_FEED_LOCK)})`.execute(tx);
}

export async function openPostgresStore(url: string, options: { migrations?: MigrationPolicy } = {}): Promise<SqlMetadataStore> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection that breaks (server restart, network) is reported here; without a
  // listener Node would crash. The pool drops it, and the next query reports its own error.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK)})`.execute(conn);
      try {
        await prepareSchema(conn, 'postgres', options.migrations ?? 'check');
      } finally {
        await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK)})`.execute(conn);
      }
    });
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new SqlMetadataStore(db, { isUniqueViolation, beforeRecordChange: serializeChangeWriters });
}
