// The embedded default: SQLite in the data folder, in WAL mode so that the CLI can write while the
// server reads, with a busy timeout so that the two wait for each other instead of failing. The
// wait blocks this process's event loop (better-sqlite3 is synchronous), so it is short; a write
// that still finds the lock taken answers 503 "the database is busy" (sqlite-busy.ts).

import { Kysely, SqliteDialect } from 'kysely';
import type { OnProgress } from '../../domain/progress.js';
import { prepareSchema, type MigrationPolicy } from './migrations.js';
import type { Database as Schema } from './sql-schema.js';
import { busyAsUnavailable } from './sqlite-busy.js';
import { openSqliteConnection } from './sqlite-driver.js';
import { SqlMetadataDatabase } from './sql-database.js';

/** The configuration schema's default (database.busy_timeout_ms), for callers without a configuration. */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 5_000;

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export async function openSqliteDatabase(
  file: string,
  options: { migrations?: MigrationPolicy; busyTimeoutMs?: number; onProgress?: OnProgress } = {},
): Promise<SqlMetadataDatabase> {
  const database = openSqliteConnection(file, { timeout: options.busyTimeoutMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS });
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: busyAsUnavailable(database) }) });
  try {
    await prepareSchema(db, 'sqlite', options.migrations ?? 'check', options.onProgress);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new SqlMetadataDatabase(db, { name: 'sqlite', isUniqueViolation });
}
