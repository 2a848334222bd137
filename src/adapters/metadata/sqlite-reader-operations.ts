// What the SQLite reader thread (sqlite-thread-worker.ts) runs: the stored index files of some
// crates, a batch per message (sqlite-threads.ts), in the form asked for (sql-index-files.ts's
// readIndexFile, in SQL of its own); and the statements of a search, compiled by Kysely on the
// main thread (sql-crate-search.ts). It loads the driver and nothing else: Kysely and the
// repositories would add about 10 MB to the process's resident memory for a thread that runs these
// queries. Its connection is read-only.

import type BetterSqlite3 from 'better-sqlite3';
import type { IndexFileForm } from '../../domain/index-file.js';
import { unavailableWhenBusy } from './sqlite-busy.js';

/** One of the two is set: the gzip form when asked for and stored, else the bytes. */
export interface ReadIndexFileRow {
  etag: string;
  body: Uint8Array | null;
  gzip: Uint8Array | null;
}

const READ_SQL: Record<IndexFileForm, string> = {
  identity: 'select etag, body, null as gzip from index_files where name_lower = ?',
  gzip: 'select etag, case when gzip is null then body end as body, gzip from index_files where name_lower = ?',
};

/** Compiled statements kept for `readRows`: a search has a handful of shapes; more are prepared again. */
const MAX_KEPT_STATEMENTS = 64;

export function readerOperations(connection: BetterSqlite3.Database) {
  const statements = new Map<IndexFileForm, BetterSqlite3.Statement<[string], ReadIndexFileRow>>();
  const compiled = new Map<string, BetterSqlite3.Statement<unknown[], unknown>>();
  const compiledStatement = (sql: string) => {
    let statement = compiled.get(sql);
    if (statement === undefined) {
      if (compiled.size >= MAX_KEPT_STATEMENTS) compiled.clear();
      compiled.set(sql, (statement = connection.prepare<unknown[], unknown>(sql)));
    }
    return statement;
  };
  const statementFor = (form: IndexFileForm) => {
    let statement = statements.get(form);
    if (statement === undefined) statements.set(form, (statement = connection.prepare<[string], ReadIndexFileRow>(READ_SQL[form])));
    return statement;
  };
  return {
    operations: {
      /** Each name's file, or null, in the order of `lowerNames`. */
      readIndexFiles: async (lowerNames: string[], form: IndexFileForm): Promise<(ReadIndexFileRow | null)[]> => {
        const statement = statementFor(form);
        return unavailableWhenBusy(() => lowerNames.map((name) => statement.get(name) ?? null));
      },
      /** The rows of one read statement, as Kysely compiled it. */
      readRows: async (sql: string, parameters: readonly unknown[]): Promise<unknown[]> =>
        unavailableWhenBusy(() => compiledStatement(sql).all(...parameters)),
    },
    close: async () => connection.close(),
  };
}

export type ReaderOperations = ReturnType<typeof readerOperations>['operations'];
