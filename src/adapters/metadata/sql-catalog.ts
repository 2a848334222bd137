// The web pages' read models (ports/catalog.ts) in the metadata database, through Kysely.

import type { Kysely } from 'kysely';
import type { IndexEntry } from '../../domain/index-line.js';
import type { Catalog, CatalogCrate, UserSummary } from '../../ports/catalog.js';
import { emptyVersionDetails, type VersionDetails } from '../../ports/crates.js';
import type { Database } from './sql-schema.js';

export class SqlCatalog implements Catalog {
  constructor(private readonly db: Kysely<Database>) {}

  async crate(lowerName: string): Promise<CatalogCrate | undefined> {
    const crate = await this.db
      .selectFrom('crates')
      .select(['id', 'name', 'created_at', 'updated_at'])
      .where('name_lower', '=', lowerName)
      .executeTakeFirst();
    if (!crate) return undefined;
    const rows = await this.db
      .selectFrom('versions')
      .leftJoin('users', 'users.id', 'versions.published_by')
      .select(['versions.entry_json', 'versions.yanked', 'versions.created_at', 'users.login'])
      .where('versions.crate_id', '=', crate.id)
      .orderBy('versions.id')
      .execute();
    return {
      name: crate.name,
      createdAt: crate.created_at,
      updatedAt: crate.updated_at,
      versions: rows.map((row) => ({
        entry: JSON.parse(row.entry_json) as IndexEntry,
        yanked: row.yanked === 1,
        publishedAt: row.created_at,
        publishedBy: row.login,
      })),
    };
  }

  async versionDetails(lowerName: string, version: string): Promise<VersionDetails | undefined> {
    const row = await this.db
      .selectFrom('versions')
      .innerJoin('crates', 'crates.id', 'versions.crate_id')
      .select('versions.details_json')
      .where('crates.name_lower', '=', lowerName)
      .where('versions.vers', '=', version)
      .executeTakeFirst();
    return row && { ...emptyVersionDetails(), ...(JSON.parse(row.details_json) as Partial<VersionDetails>) };
  }

  async existingCrates(lowerNames: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const unique = [...new Set(lowerNames)];
    for (let i = 0; i < unique.length; i += 200) {
      const rows = await this.db
        .selectFrom('crates')
        .select(['name', 'name_lower'])
        .where('name_lower', 'in', unique.slice(i, i + 200))
        .execute();
      for (const row of rows) found.set(row.name_lower, row.name);
    }
    return found;
  }

  async users(): Promise<UserSummary[]> {
    const [users, groups, identities, tokens] = await Promise.all([
      this.db.selectFrom('users').select(['id', 'login', 'is_admin', 'created_at', 'password_hash']).orderBy('login').execute(),
      this.db.selectFrom('group_members').select(['user_id', 'group_name', 'source']).orderBy('group_name').execute(),
      this.db.selectFrom('user_identities').select(['user_id', 'issuer', 'subject']).execute(),
      this.db
        .selectFrom('tokens')
        .select(['user_id', (eb) => eb.fn.countAll().as('n')])
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date().toISOString())]))
        .groupBy('user_id')
        .execute(),
    ]);
    return users.map((u) => ({
      id: u.id,
      login: u.login,
      isAdmin: u.is_admin === 1,
      createdAt: u.created_at,
      hasPassword: u.password_hash !== null,
      groups: groups.filter((g) => g.user_id === u.id).map((g) => ({ name: g.group_name, source: g.source })),
      identities: identities.filter((i) => i.user_id === u.id).map((i) => `${i.issuer} ${i.subject}`),
      activeTokens: Number(tokens.find((t) => t.user_id === u.id)?.n ?? 0),
    }));
  }
}
