// Crate search in SQL: names match as crate names compare (`foo_bar` finds `Foo-Bar`),
// descriptions as text; exact names first, then prefixes, then the rest by name.

import { sql } from 'kysely';
import { normalizeCrateName } from '../../domain/crate-name.js';
import type { CrateSearch, SearchHit } from '../../ports/crate-search.js';
import { toStoredVersion } from './sql-rows.js';
import type { SqlScope } from './sql-scope.js';

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => '\\' + c);
}

export class SqlCrateSearch implements CrateSearch {
  constructor(private readonly scope: SqlScope) {}

  async searchCrates(
    query: string,
    limit: number,
    offset: number,
    visible?: (name: string) => boolean,
  ): Promise<{ total: number; hits: SearchHit[] }> {
    const db = this.scope.db;
    const q = query.toLowerCase();
    const name = normalizeCrateName(q);
    const pattern = `%${escapeLike(q)}%`;
    const namePattern = `%${escapeLike(name)}%`;
    const matches = db
      .selectFrom('crates')
      .where((eb) =>
        eb.or([
          sql<boolean>`${eb.ref('name_normalized')} like ${namePattern} escape '\\'`,
          sql<boolean>`lower(coalesce(${eb.ref('description')}, '')) like ${pattern} escape '\\'`,
        ]),
      );
    const ranked = matches
      .select(['id', 'name', 'description'])
      .orderBy(
        sql`case when name_normalized = ${name} then 0 when name_normalized like ${escapeLike(name) + '%'} escape '\\' then 1 else 2 end`,
      )
      .orderBy('name_lower');
    let total: number;
    let crates: { id: number; name: string; description: string | null }[];
    if (visible === undefined) {
      const totalRow = await matches.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
      total = Number(totalRow.n);
      crates = await ranked.limit(limit).offset(offset).execute();
    } else {
      // Visibility is decided outside SQL: rank every match, keep the visible ones, then page.
      const all = (await ranked.execute()).filter((c) => visible(c.name));
      total = all.length;
      crates = all.slice(offset, offset + limit);
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
