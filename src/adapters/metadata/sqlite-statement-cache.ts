// Kysely asks the connection to prepare its SQL for every query, and better-sqlite3 then parses and
// plans it again: about a tenth of the index reader thread's time at 150,000 crates
// (bench/README.md). Kysely compiles one text per query shape, so statements are kept by their text
// (a bounded number; the least used are dropped, and SQLite finalizes them) and reused by `all` and
// `run`, which finish before they return. `iterate` gets a statement of its own: a stream still
// being read would keep a shared one busy.

import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { LruCache } from '../../lib/lru-cache.js';

/** More distinct texts than the registry's queries, with room for IN lists and batch inserts of varying length. */
const MAX_STATEMENTS = 500;

export function reusingStatements(database: SqliteDatabase, maxStatements = MAX_STATEMENTS): SqliteDatabase {
  const statements = new LruCache<string, SqliteStatement>(maxStatements);
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement === undefined) statements.set(sql, (statement = database.prepare(sql)));
      const shared = statement;
      return {
        reader: shared.reader,
        all: (parameters) => shared.all(parameters),
        run: (parameters) => shared.run(parameters),
        iterate: (parameters) => database.prepare(sql).iterate(parameters),
      };
    },
  };
}
