// PostgreSQL for deployments with several replicas: the same SqlMetadataDatabase over Kysely's
// PostgresDialect and a `pg` pool. Two things differ from SQLite and are handled here:
// - A `serial` value is taken at insert time, not at commit time, so a writer holding seq 7 may
//   commit after another's seq 8 was already read, and a poller asking for `seq > 8` would never
//   see 7. Every writer of `changes` therefore takes one transaction-scoped advisory lock just
//   before its insert and keeps it until commit: seq order is then commit order, and a poller
//   that has seen seq N has seen every committed change below N.
// - Replicas that start together would race to migrate; a session advisory lock lets one do it.
// And a server that stops answering must not hang the registry: every connection has a connect
// timeout, TCP keepalive, server-side statement and idle-in-transaction timeouts, and every query
// a client-side deadline (postgres-pool.ts), so a request that needs the database gets a prompt
// 503 that names it, and the pool heals by itself when the server is back.

import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { OnProgress } from '../../domain/progress.js';
import { prepareSchema, type MigrationPolicy } from './migrations.js';
import { PostgresIndexReads } from './postgres-index-reads.js';
import { GuardedPool } from './postgres-pool.js';
import { prepareAuditAppendOnPostgres } from './sql-audit-log.js';
import type { Database } from './sql-schema.js';
import { SqlMetadataDatabase } from './sql-database.js';
import type { Db } from './sql-scope.js';

// Arbitrary constants that name the two locks; any other user of advisory locks must avoid them.
const CHANGE_FEED_LOCK = 0x636b_0001;
const MIGRATION_LOCK = 0x636b_0002;

const POOL_SIZE = 10;
const KEEPALIVE_IDLE_MS = 10_000;

export interface PostgresTimeouts {
  /** Opening a connection, or waiting for a free one in the pool. */
  connectMs: number;
  /** Client-side deadline of one query; longer than `statementMs`, so that it only catches a silent server. */
  queryMs: number;
  /** Server-side `statement_timeout` (0: none). */
  statementMs: number;
  /** An idle pooled connection is closed after this long. */
  idleMs: number;
  /** Server-side `idle_in_transaction_session_timeout`: frees the locks of a client that froze mid-transaction. */
  idleInTransactionMs: number;
}

/** The configuration schema's defaults (config/schema.ts), for callers without a configuration. */
export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  connectMs: 3_000,
  queryMs: 6_000,
  statementMs: 5_000,
  idleMs: 10_000,
  idleInTransactionMs: 10_000,
};

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === '23505';
}

async function serializeChangeWriters(tx: Db): Promise<void> {
  await sql`select pg_advisory_xact_lock(${sql.lit(CHANGE_FEED_LOCK)})`.execute(tx);
}

/**
 * Migrating (or checking the schema) runs on a connection of its own without statement deadlines:
 * a migration may take a while on a big database, and so may waiting for another replica's. Its
 * errors stay the driver's own: they stop the start, and the operator needs their whole text.
 */
async function migrateOnce(url: string, timeouts: PostgresTimeouts, policy: MigrationPolicy, onProgress?: OnProgress): Promise<void> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: timeouts.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    application_name: 'cratekeeper',
  });
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(${sql.lit(MIGRATION_LOCK)})`.execute(conn);
      try {
        await prepareSchema(conn, 'postgres', policy, onProgress);
      } finally {
        await sql`select pg_advisory_unlock(${sql.lit(MIGRATION_LOCK)})`.execute(conn);
      }
    });
  } finally {
    await db.destroy();
  }
}

export async function openPostgresDatabase(
  url: string,
  options: { migrations?: MigrationPolicy; timeouts?: PostgresTimeouts; onProgress?: OnProgress } = {},
): Promise<SqlMetadataDatabase> {
  const timeouts = options.timeouts ?? DEFAULT_POSTGRES_TIMEOUTS;
  await migrateOnce(url, timeouts, options.migrations ?? 'check', options.onProgress);
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: timeouts.connectMs,
    idleTimeoutMillis: timeouts.idleMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_IDLE_MS,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    application_name: 'cratekeeper',
  });
  pool.on('connect', withoutParallelWorkers);
  const guarded = new GuardedPool(pool, timeouts.queryMs);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guarded }) });
  prepareAuditAppendOnPostgres(guarded, db);
  return new SqlMetadataDatabase(
    db,
    { name: 'postgres', isUniqueViolation, beforeRecordChange: serializeChangeWriters },
    new PostgresIndexReads(db, guarded),
  );
}

/**
 * The registry's sessions plan without parallel workers. Its queries are many and small, and the
 * largest (a search of one or two letters, which reads every crate's name) took 51-108 ms with two
 * workers and 22 ms without at 150,000 crates: starting the workers costs more than they save, and
 * they take cores from the other requests. It also keeps the planner from switching `tokio`'s
 * search from the trigram indexes to a parallel scan of every crate (126 ms against 55 ms).
 * Set per session (the first statement on each new connection), so the server's own setting stays
 * as it is for every other client.
 */
function withoutParallelWorkers(client: pg.PoolClient): void {
  // A failure here is the connection failing, which its next query reports.
  client.query('set max_parallel_workers_per_gather = 0').catch(() => {});
}
