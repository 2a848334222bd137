// The connection each SQLite thread (sqlite-thread-worker.ts) opens, and its settings.

import type BetterSqlite3 from 'better-sqlite3';
import { openSqliteConnection } from './sqlite-driver.js';
import type { ThreadSettings } from './sqlite-threads.js';

/**
 * The page cache of a thread's connection, in KiB. better-sqlite3 builds SQLite with 16 MB per
 * connection, and both threads filled theirs within seconds of cold reads, 35 MB of the process's
 * resident memory (bench/README.md). Neither rereads much: the reader reads each missing file once
 * (the index cache above it keeps the hot ones, and the operating system's cache the file's pages),
 * and the writer appends at the end of its tables' b-trees. 2 MiB holds their b-trees' inner pages.
 */
export const THREAD_PAGE_CACHE_KIB = 2048;

export function openThreadConnection(settings: ThreadSettings): BetterSqlite3.Database {
  const { role } = settings;
  const connection = openSqliteConnection(
    settings.file,
    { timeout: settings.busyTimeoutMs, readonly: role.kind === 'reader' },
    settings.driverPath,
  );
  connection.pragma(`cache_size = -${THREAD_PAGE_CACHE_KIB}`);
  if (role.kind === 'writer') {
    // The same durability as the server's connection: a write reported done is on disk.
    connection.pragma('synchronous = FULL');
    connection.pragma('foreign_keys = ON');
  }
  return connection;
}
