// Which crates a search query matches, written so that each database answers it from an index
// (migration 8) rather than by reading every crate: SQLite looks the query up in `crate_search`, an
// FTS5 table with the trigram tokenizer over crate names and descriptions; PostgreSQL uses pg_trgm
// GIN indexes, which make `LIKE '%query%'` indexable. Both match substrings, case-insensitively,
// names as crate names compare (`foo-bar` finds `foo_bar`). A trigram index cannot look up fewer
// than three characters, so a shorter query matches names only (as crates.io matches short queries):
// on PostgreSQL a query of two from the index of each name's pairs of characters (migration 21).

import { sql, type RawBuilder } from 'kysely';
import type { ReadableCrates } from '../../ports/crate-search.js';

/** Fewer characters than this cannot be looked up in a trigram index. */
export const MIN_INDEXED_QUERY = 3;

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

const contains = (text: string) => `%${escapeLike(text)}%`;

/** An FTS5 string: the text between double quotes, its own double quotes doubled. */
const ftsString = (text: string) => `"${text.replaceAll('"', '""')}"`;

/**
 * `q` is the lower-case query, `name` the same normalized as a crate name. The crate's row is
 * `crates` (unaliased).
 */
export function matchesQuery(dialect: 'sqlite' | 'postgres', q: string, name: string): RawBuilder<boolean> {
  const nameContains = sql<boolean>`crates.name_normalized like ${contains(name)} escape '\\'`;
  if ([...q].length < MIN_INDEXED_QUERY) {
    if (dialect === 'sqlite' || [...name].length !== 2) return nameContains;
    // A name contains the pair exactly when the pair is among its pairs. The `like` costs nothing
    // after the index's lookup; it is tested first should the planner ever read every crate.
    return sql<boolean>`(crate_name_pairs(crates.name_normalized) @> array[${name}]::text[] and ${nameContains})`;
  }
  if (dialect === 'sqlite') {
    const fts = `name_normalized : ${ftsString(name)} OR description : ${ftsString(q)}`;
    return sql<boolean>`crates.id in (select rowid from crate_search where crate_search match ${fts})`;
  }
  return sql<boolean>`(${nameContains} or lower(coalesce(crates.description, '')) like ${contains(q)} escape '\\')`;
}

/** Relevance, best first: the exact name, a name that starts with the query, one that contains it, a description. */
export function relevance(name: string): RawBuilder<number> {
  return sql<number>`case when crates.name_normalized = ${name} then 0
    when crates.name_normalized like ${escapeLike(name) + '%'} escape '\\' then 1
    when crates.name_normalized like ${contains(name)} escape '\\' then 2 else 3 end`;
}

/** True for the crates `readable` lets the reader see: the first rule that matches the name decides. */
export function isReadable(readable: ReadableCrates): RawBuilder<boolean> {
  const cases = readable.rules.map(({ patterns, readable: allowed }) => {
    const matches = patterns.map((p) =>
      p.exact
        ? sql<boolean>`crates.name_normalized = ${p.prefix}`
        : p.prefix === ''
          ? sql<boolean>`1 = 1`
          : sql<boolean>`crates.name_normalized like ${escapeLike(p.prefix) + '%'} escape '\\'`,
    );
    const any = matches.length === 0 ? sql<boolean>`1 = 0` : sql.join(matches, sql` or `);
    return sql`when ${any} then ${sql.lit(allowed ? 1 : 0)}`;
  });
  if (cases.length === 0) return sql<boolean>`1 = 1`;
  return sql<boolean>`(case ${sql.join(cases, sql` `)} else 1 end) = 1`;
}
