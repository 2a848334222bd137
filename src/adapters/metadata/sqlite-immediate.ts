// Units of work on the server's SQLite connection begin IMMEDIATE when the writer thread
// (sqlite-threads.ts) writes beside it: they take the write lock when they start instead of at their
// first write. A deferred transaction that read, awaited something (a publish awaits its blob store
// and the CPU pool), and then wrote after the thread had committed meanwhile would fail at once with
// SQLITE_BUSY_SNAPSHOT: its snapshot is stale and cannot become a write, and no busy timeout waits
// that out. An immediate one waits for the thread's commit (a few milliseconds), and the thread then
// waits for it in turn, on its own thread.

import type { SqliteDatabase } from 'kysely';

/** `database` with Kysely's `begin` (the only way it opens a transaction) made `begin immediate`. */
export function immediateTransactions(database: SqliteDatabase): SqliteDatabase {
  return {
    close: () => database.close(),
    prepare: (sql) => database.prepare(sql === 'begin' ? 'begin immediate' : sql),
  };
}
