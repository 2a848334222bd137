// The embedded default: SQLite in the data folder, in WAL mode so that the CLI can write while the
// server reads, with a busy timeout so that the two wait for each other instead of failing.

import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { prepareSchema, type MigrationPolicy } from './migrations.js';
import type { Database as Schema } from './sql-schema.js';
import { SqlMetadataStore } from './sql-store.js';

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export async function openSqliteStore(file: string, options: { migrations?: MigrationPolicy } = {}): Promise<SqlMetadataStore> {
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('busy_timeout = 10000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database }) });
  try {
    await prepareSchema(db, 'sqlite', options.migrations ?? 'check');
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new SqlMetadataStore(db, { isUniqueViolation });
}
