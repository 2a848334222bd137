// Crate search in SQL, in crates.io's order: the exact name first, then by relevance, then by
// downloads. One query answers a page and its total (a window count over the matched, readable
// crates); the match itself comes from an index (sql-search-match.ts), and access rules are
// applied inside the query, so a hidden crate is neither listed nor counted.

import { sql } from 'kysely';
import { normalizeCrateName } from '../../domain/crate-name.js';
import type { CrateSearch, ReadableCrates, SearchHit } from '../../ports/crate-search.js';
import { isReadable, matchesQuery, relevance } from './sql-search-match.js';
import { toStoredVersion } from './sql-rows.js';
import type { SqlScope } from './sql-scope.js';

export class SqlCrateSearch implements CrateSearch {
  constructor(private readonly scope: SqlScope) {}

  async searchCrates(
    query: string,
    limit: number,
    offset: number,
    readable?: ReadableCrates,
  ): Promise<{ total: number; hits: SearchHit[] }> {
    const db = this.scope.db;
    const q = query.toLowerCase();
    const name = normalizeCrateName(q);
    let matches = db.selectFrom('crates');
    if (readable) matches = matches.where(isReadable(readable));
    const countMatches = async () => Number((await matches.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    let total: number;
    let crates: { id: number; name: string; description: string | null }[];
    if (q === '') {
      // Every crate: the page walks the (downloads, name) index; the total is one count.
      crates = await matches
        .select(['id', 'name', 'description'])
        .orderBy('downloads', 'desc')
        .orderBy('name_lower')
        .limit(limit)
        .offset(offset)
        .execute();
      total = await countMatches();
    } else {
      matches = matches.where(matchesQuery(this.scope.rules.name, q, name));
      const rows = await matches
        .select(['id', 'name', 'description', sql<number | string>`count(*) over ()`.as('total')])
        .orderBy(relevance(name))
        .orderBy('downloads', 'desc')
        .orderBy('name_lower')
        .limit(limit)
        .offset(offset)
        .execute();
      crates = rows;
      // A page past the end has no row to carry the total: only then is it counted apart.
      total = rows.length > 0 ? Number(rows[0]!.total) : offset === 0 ? 0 : await countMatches();
    }
    const versions =
      crates.length === 0
        ? []
        : await db
            .selectFrom('versions')
            .select(['crate_id', 'entry_json', 'yanked'])
            .where(
              'crate_id',
              'in',
              crates.map((c) => c.id),
            )
            .orderBy('id')
            .execute();
    const hits = crates.map((c) => ({
      name: c.name,
      description: c.description,
      versions: versions.filter((v) => v.crate_id === c.id).map(toStoredVersion),
    }));
    return { total, hits };
  }
}
