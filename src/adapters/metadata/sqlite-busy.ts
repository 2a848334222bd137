// SQLite allows one writer at a time across processes: while another process (a CLI command, an
// import) holds the write lock, a write here waits up to the busy timeout and then fails with
// SQLITE_BUSY. That failure is the database being unavailable for a moment, not a bug: this
// wrapper of the connection, as Kysely sees it, turns it into an `unavailable` error (a 503 that
// names the database) on every statement; every other error passes unchanged.

import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { dependencyUnavailable } from '../dependency-unavailable.js';

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/** `run`'s result, or an `unavailable` error when the database is busy. */
export function unavailableWhenBusy<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw isBusy(error) ? dependencyUnavailable('database', error, 'is busy') : error;
  }
}

export function busyAsUnavailable(database: SqliteDatabase): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const statement = unavailableWhenBusy(() => database.prepare(sql));
      return {
        reader: statement.reader,
        all: (parameters) => unavailableWhenBusy(() => statement.all(parameters)),
        run: (parameters) => unavailableWhenBusy(() => statement.run(parameters)),
        iterate: (parameters) => unavailableWhenBusy(() => statement.iterate(parameters)),
      };
    },
  };
}
