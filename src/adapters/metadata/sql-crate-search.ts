// Crate search in SQL, in crates.io's order: the exact name first, then by relevance, then by
// downloads. One query ranks the matches and counts them (a window count over the matched,
// readable crates); the match itself comes from an index (sql-search-match.ts), and access rules
// are applied inside that query, so a hidden crate is neither listed nor counted. Only the page's
// crates are then read, with the version each is shown at.

import { sql, type CompiledQuery } from 'kysely';
import { normalizeCrateName } from '../../domain/crate-name.js';
import type { CrateSearch, ReadableCrates, SearchHit } from '../../ports/crate-search.js';
import { NO_VERSION } from '../../domain/max-version.js';
import { isReadable, matchesQuery, relevance } from './sql-search-match.js';
import type { SqlScope } from './sql-scope.js';

/** Runs a compiled read statement and answers its rows: on the connection, or elsewhere (`readingOn`). */
export type RowReader = (query: CompiledQuery) => Promise<unknown[]>;

export class SqlCrateSearch implements CrateSearch {
  private readonly readRows: RowReader;

  constructor(
    private readonly scope: SqlScope,
    readRows?: RowReader,
  ) {
    this.readRows = readRows ?? (async (query) => (await scope.db.executeQuery(query)).rows);
  }

  /**
   * The same search with its statements run by `readRows`: on SQLite, the reader thread
   * (sqlite-threads.ts), so that a search that matches most of a large registry (a second and more)
   * holds no request but another search or a cold index read.
   */
  readingOn(readRows: RowReader): SqlCrateSearch {
    return new SqlCrateSearch(this.scope, readRows);
  }

  private async rows<R>(query: CompiledQuery): Promise<R[]> {
    return (await this.readRows(query)) as R[];
  }

  async searchCrates(
    query: string,
    limit: number,
    offset: number,
    readable?: ReadableCrates,
  ): Promise<{ total: number; hits: SearchHit[] }> {
    const db = this.scope.db;
    const q = query.toLowerCase();
    const name = normalizeCrateName(q);
    const visible = readable ? isReadable(readable) : sql<boolean>`1 = 1`;
    const count = async (match: ReturnType<typeof sql<boolean>>) =>
      Number(
        (await this.rows<{ n: number | string }>(sql`select count(*) as n from crates where ${match} and ${visible}`.compile(db)))[0]!.n,
      );
    let total: number;
    let ids: number[];
    if (q === '') {
      // Every crate: the page walks the (downloads, name) index, which holds what access rules test.
      const rows = await this.rows<{ id: number }>(
        sql`select crates.id from crates where ${visible}
        order by crates.downloads desc, crates.name_lower limit ${limit} offset ${offset}`.compile(db),
      );
      ids = rows.map((r) => r.id);
      // Every crate, when the reader may read them all, is the count the triggers keep (migration 17).
      total = readable ? await count(sql<boolean>`1 = 1`) : await this.crateCount();
    } else {
      const match = matchesQuery(this.scope.rules.name, q, name);
      // SQLite: rank from the narrow covering index rather than the crates' full rows.
      const from = this.scope.rules.name === 'sqlite' ? sql`crates indexed by crates_search_rank` : sql`crates`;
      const rows = await this.rows<{ id: number; total: number | string }>(
        sql`select crates.id, count(*) over () as total
        from ${from} where ${match} and ${visible}
        order by ${relevance(name)}, crates.downloads desc, crates.name_lower limit ${limit} offset ${offset}`.compile(db),
      );
      ids = rows.map((r) => r.id);
      // A page past the end has no row to carry the total: only then is it counted apart.
      total = rows.length > 0 ? Number(rows[0]!.total) : offset === 0 ? 0 : await count(match);
    }
    if (ids.length === 0) return { total, hits: [] };
    // The version each is shown at is stored with it: a page of crates with thousands of versions
    // each read every version's row and parsed its number on the event loop (100-180 ms for 100
    // crates of 1,000 versions).
    const crates = await this.rows<{ id: number; name: string; description: string | null; max_version: string | null }>(
      db.selectFrom('crates').select(['id', 'name', 'description', 'max_version']).where('id', 'in', ids).compile(),
    );
    const byId = new Map(crates.map((c) => [c.id, c]));
    const hits = ids.map((id) => {
      const c = byId.get(id)!;
      return { name: c.name, description: c.description, maxVersion: c.max_version ?? NO_VERSION };
    });
    return { total, hits };
  }

  /** The number of crates, as the triggers of migration 17 keep it. */
  private async crateCount(): Promise<number> {
    const rows = await this.rows<{ crates: number | string }>(
      this.scope.db.selectFrom('crate_count').select('crates').where('id', '=', 1).compile(),
    );
    return Number(rows[0]!.crates);
  }
}
