// The database's tables as plain rows, for `cratekeeper export` and `import` (src/ops): they copy
// a whole registry between databases of any kind without knowing its queries. Rows are objects of
// column name to value, as stored (ids included).

import type { OnProgress } from '../domain/progress.js';

export type TableRow = Record<string, unknown>;

export interface RegistryTables {
  /** Every table of the database with its column names. */
  columns(): Promise<Map<string, string[]>>;
  /** Every row of a table, read in pages (never the whole table at once). */
  rows(table: string, columns: readonly string[]): AsyncIterable<TableRow>;
  hasRows(table: string): Promise<boolean>;
  /**
   * Inserts the rows of `tables`, in that order, in one transaction: all of them or none. Columns
   * the database does not have are dropped; ids are kept, and new ids continue after them.
   * Returns the number of rows inserted.
   */
  load(tables: readonly string[], rowsOf: (table: string) => AsyncIterable<TableRow>, onProgress?: OnProgress): Promise<number>;
}
