// The tables as plain rows for export and import (ops/), read and written generically by name.
// Export reads in pages (by id, or by key for the large tables without one); import inserts in
// bounded batches in one transaction and, on PostgreSQL, moves each id sequence past the ids it
// loaded.

import { sql, type Kysely } from 'kysely';
import { noProgress, type OnProgress } from '../../domain/progress.js';
import type { RegistryTables, TableRow } from '../../ports/registry-tables.js';
import type { Database } from './sql-schema.js';
import type { SqlDialectRules } from './sql-scope.js';
import { rebuildDownloadTotals, rebuildVersionDownloadTotals } from './download-totals.js';
import { rebuildIndexFiles } from './sql-index-files.js';
import { rebuildMaxVersions } from './sql-max-version.js';

const PAGE = 5_000;
const BATCH = 400;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tables are read and written generically, by name
type AnyDb = Kysely<any>;

/** Tables without an id that grow with time (a row per version and day): read in pages of their key. */
const PAGED_BY_KEY: Record<string, string[]> = { version_downloads: ['crate', 'version', 'day'] };

async function* rowsByKey(db: AnyDb, table: string, key: string[]): AsyncGenerator<TableRow> {
  let last: TableRow | undefined;
  for (;;) {
    let query = db.selectFrom(table).selectAll().limit(PAGE);
    for (const column of key) query = query.orderBy(sql.ref(column));
    if (last) {
      const after = last;
      // A row-value comparison: SQLite and PostgreSQL both order it like the ORDER BY above.
      query = query.where(sql<boolean>`(${sql.join(key.map((c) => sql.ref(c)))}) > (${sql.join(key.map((c) => after[c]))})`);
    }
    const rows = (await query.execute()) as TableRow[];
    yield* rows;
    if (rows.length < PAGE) return;
    last = rows[rows.length - 1];
  }
}

export class SqlRegistryTables implements RegistryTables {
  constructor(
    private readonly database: Kysely<Database>,
    private readonly rules: SqlDialectRules,
  ) {}

  private get db(): AnyDb {
    return this.database as AnyDb;
  }

  async columns(): Promise<Map<string, string[]>> {
    return new Map((await this.db.introspection.getTables()).map((t) => [t.name, t.columns.map((c) => c.name)]));
  }

  /** By id pages when the table has one, by key pages when it is large, else in one read (the small link tables). */
  async *rows(table: string, columns: readonly string[]): AsyncGenerator<TableRow> {
    const db = this.db;
    const key = PAGED_BY_KEY[table];
    if (key && !columns.includes('id')) {
      yield* rowsByKey(db, table, key);
      return;
    }
    if (!columns.includes('id')) {
      yield* (await db.selectFrom(table).selectAll().orderBy(sql.ref(columns[0]!)).execute()) as TableRow[];
      return;
    }
    let after = -Infinity;
    for (;;) {
      let query = db.selectFrom(table).selectAll().orderBy('id').limit(PAGE);
      if (after !== -Infinity) query = query.where('id', '>', after);
      const rows = (await query.execute()) as TableRow[];
      yield* rows;
      if (rows.length < PAGE) return;
      after = Number(rows[rows.length - 1]!.id);
    }
  }

  async hasRows(table: string): Promise<boolean> {
    const row = await this.db.selectFrom(table).select(sql.lit(1).as('one')).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async load(
    tables: readonly string[],
    rowsOf: (table: string) => AsyncIterable<TableRow>,
    onProgress: OnProgress = noProgress,
  ): Promise<number> {
    const columnsOf = await this.columns();
    let rows = 0;
    await this.db.transaction().execute(async (tx) => {
      for (const name of tables) {
        const columns = new Set(columnsOf.get(name));
        let batch: TableRow[] = [];
        const flush = async () => {
          if (batch.length > 0) await tx.insertInto(name).values(batch).execute();
          rows += batch.length;
          batch = [];
        };
        for await (const row of rowsOf(name)) {
          for (const column of Object.keys(row)) if (!columns.has(column)) delete row[column];
          batch.push(row);
          if (batch.length >= BATCH) await flush();
        }
        await flush();
        // Rows kept their ids; PostgreSQL's sequences must continue after them. Only generated ids
        // have one: an `id` that is data (an advisory's RUSTSEC id) has none.
        if (this.rules.name === 'postgres' && columns.has('id')) {
          const { rows: serial } = await sql<{ sequence: string | null }>`select pg_get_serial_sequence(${name}, 'id') as sequence`.execute(
            tx,
          );
          if (serial[0]?.sequence) {
            await sql`select setval(${serial[0].sequence}, coalesce(max(id), 1), max(id) is not null) from ${sql.table(name)}`.execute(tx);
          }
        }
      }
      // crates.downloads is a running total of version_downloads: rebuilt from the loaded history, so
      // an archive written before the column existed (or edited by hand) imports with the right totals.
      if (tables.includes('crates')) await rebuildDownloadTotals(tx as unknown as Kysely<Database>, onProgress);
      if (tables.includes('version_downloads')) await rebuildVersionDownloadTotals(tx as unknown as Kysely<Database>);
      // The stored index files are not in an archive: rendered from the loaded versions.
      if (tables.includes('versions')) await rebuildIndexFiles(tx as unknown as Kysely<Database>, onProgress);
      // So is the version each crate is shown at.
      if (tables.includes('versions')) await rebuildMaxVersions(tx as unknown as Kysely<Database>, this.rules.name, onProgress);
    });
    return rows;
  }
}
