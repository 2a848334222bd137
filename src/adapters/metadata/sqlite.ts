// The embedded default: SQLite in the data folder, in WAL mode so that the CLI can write while the
// server reads, with a busy timeout so that the two wait for each other instead of failing. The
// wait blocks this process's event loop (better-sqlite3 is synchronous), so it is short; a write
// that still finds the lock taken answers 503 "the database is busy" (sqlite-busy.ts).
// A serving process passes `writerThread`: the batched writes that serving causes then run on a
// worker thread with a connection of its own (sqlite-threads.ts), which also runs the WAL
// checkpoints, so that no fsync or checkpoint of theirs holds the event loop; and index files that
// are not cached are read on another thread, so that a large one read from the disk holds none either.

import { Kysely, SqliteDialect } from 'kysely';
import type { OnProgress } from '../../domain/progress.js';
import { prepareSchema, type MigrationPolicy } from './migrations.js';
import type { Database as Schema } from './sql-schema.js';
import { busyAsUnavailable } from './sqlite-busy.js';
import { reusingStatements } from './sqlite-statement-cache.js';
import { openSqliteConnection, sqliteDriverPath } from './sqlite-driver.js';
import { SqlMetadataDatabase } from './sql-database.js';
import { immediateTransactions } from './sqlite-immediate.js';
import { SQLITE_RULES } from './sqlite-rules.js';
import { SqliteThreads } from './sqlite-threads.js';

/** The configuration schema's default (database.busy_timeout_ms), for callers without a configuration. */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** How often the writer thread checkpoints the WAL (it also does when a commit grows it past 1,000 pages). */
const CHECKPOINT_MS = 10_000;

export async function openSqliteDatabase(
  file: string,
  options: { migrations?: MigrationPolicy; busyTimeoutMs?: number; onProgress?: OnProgress; writerThread?: boolean } = {},
): Promise<SqlMetadataDatabase> {
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS;
  const database = openSqliteConnection(file, { timeout: busyTimeoutMs });
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  const connection = busyAsUnavailable(reusingStatements(database));
  const db = new Kysely<Schema>({
    dialect: new SqliteDialect({ database: options.writerThread ? immediateTransactions(connection) : connection }),
  });
  try {
    await prepareSchema(db, 'sqlite', options.migrations ?? 'check', options.onProgress);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  if (!options.writerThread) return new SqlMetadataDatabase(db, SQLITE_RULES);
  // Checkpoints belong to the writer thread: SQLite would otherwise run one inside whichever
  // commit crosses the WAL's size limit, here on the event loop as likely as not.
  database.pragma('wal_autocheckpoint = 0');
  const threads = new SqliteThreads({
    file,
    busyTimeoutMs,
    checkpointMs: CHECKPOINT_MS,
    driverPath: sqliteDriverPath(),
  });
  return new SqlMetadataDatabase(db, SQLITE_RULES, threads);
}
