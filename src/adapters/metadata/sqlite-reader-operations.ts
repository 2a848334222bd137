// What the SQLite reader thread (sqlite-thread-worker.ts) runs: one statement, the stored index
// file of a crate (sql-index-files.ts's readIndexFile, in SQL of its own). It loads the driver and
// nothing else: Kysely and the repositories would add about 10 MB to the process's resident memory
// for a thread that runs this one query.

import type BetterSqlite3 from 'better-sqlite3';
import type { StoredIndexFile } from '../../ports/crates.js';
import { unavailableWhenBusy } from './sqlite-busy.js';

export function readerOperations(connection: BetterSqlite3.Database) {
  let statement: BetterSqlite3.Statement<[string], StoredIndexFile> | undefined;
  return {
    operations: {
      readIndexFile: async (lowerName: string): Promise<StoredIndexFile | undefined> =>
        unavailableWhenBusy(() => {
          statement ??= connection.prepare<[string], StoredIndexFile>('select body, etag from index_files where name_lower = ?');
          return statement.get(lowerName);
        }),
    },
    close: async () => connection.close(),
  };
}

export type ReaderOperations = ReturnType<typeof readerOperations>['operations'];
