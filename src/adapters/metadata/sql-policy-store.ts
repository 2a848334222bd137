// The supply-chain policy's tables in SQL (SQLite and PostgreSQL): settings, holds and early
// releases (each write records a `policy` change in its own transaction, so every replica reloads
// them), and first sightings of upstream versions, inserted once and never updated.

import type {
  FirstSighting,
  NewPolicyException,
  PolicyException,
  PolicySettingRow,
  PolicySourceKey,
  PolicyStore,
} from '../../ports/policy-store.js';
import { SqlChangeLog } from './sql-change-log.js';
import type { SqlScope } from './sql-scope.js';

/** Rows per insert: 5 parameters each stays far below SQLite's and PostgreSQL's limits. */
const ROWS_PER_STATEMENT = 400;

const iso = (ms: number) => new Date(ms).toISOString();

export class SqlPolicyStore implements PolicyStore {
  constructor(private readonly scope: SqlScope) {}

  async listSettings(): Promise<PolicySettingRow[]> {
    const rows = await this.scope.db.selectFrom('policy_settings').selectAll().orderBy('source').orderBy('key').execute();
    return rows.map((r) => ({ source: r.source, key: r.key, value: r.value, updatedAt: r.updated_at, updatedBy: r.updated_by }));
  }

  async setSetting(source: PolicySourceKey, key: string, value: string, by: string | null, at: string): Promise<void> {
    await this.scope.atomically(async (tx) => {
      await tx.db
        .insertInto('policy_settings')
        .values({ source, key, value, updated_at: at, updated_by: by })
        .onConflict((oc) => oc.columns(['source', 'key']).doUpdateSet({ value, updated_at: at, updated_by: by }))
        .execute();
      await new SqlChangeLog(tx).record('policy', 'settings');
    });
  }

  async unsetSetting(source: PolicySourceKey, key: string): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const result = await tx.db.deleteFrom('policy_settings').where('source', '=', source).where('key', '=', key).executeTakeFirst();
      const removed = Number(result.numDeletedRows) > 0;
      if (removed) await new SqlChangeLog(tx).record('policy', 'settings');
      return removed;
    });
  }

  async listExceptions(): Promise<PolicyException[]> {
    const rows = await this.scope.db.selectFrom('policy_exceptions').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind as PolicyException['kind'],
      source: r.source,
      crate: r.crate,
      version: r.version,
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    }));
  }

  async addException(e: NewPolicyException): Promise<PolicyException> {
    return this.scope.atomically(async (tx) => {
      const row = await tx.db
        .insertInto('policy_exceptions')
        .values({
          kind: e.kind,
          source: e.source,
          crate: e.crate,
          version: e.version,
          reason: e.reason,
          created_by: e.createdBy,
          created_at: e.createdAt,
          expires_at: e.expiresAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await new SqlChangeLog(tx).record('policy', 'exceptions');
      return { ...e, id: row.id };
    });
  }

  async removeExceptions(
    kind: PolicyException['kind'],
    crate: string,
    version: string | null,
    source: PolicySourceKey | null,
  ): Promise<number> {
    return this.scope.atomically(async (tx) => {
      const result = await tx.db
        .deleteFrom('policy_exceptions')
        .where('kind', '=', kind)
        .where('crate', '=', crate)
        .where((eb) => (version === null ? eb('version', 'is', null) : eb('version', '=', version)))
        .where((eb) => (source === null ? eb('source', 'is', null) : eb('source', '=', source)))
        .executeTakeFirst();
      const removed = Number(result.numDeletedRows);
      if (removed > 0) await new SqlChangeLog(tx).record('policy', 'exceptions');
      return removed;
    });
  }

  async firstSightings(source: PolicySourceKey, crate: string): Promise<Map<string, FirstSighting>> {
    const rows = await this.scope.db
      .selectFrom('policy_first_seen')
      .select(['version', 'first_seen_at', 'pubtime'])
      .where('source', '=', source)
      .where('crate', '=', crate)
      .execute();
    return new Map(
      rows.map((r) => [
        r.version,
        {
          version: r.version,
          firstSeenAt: Date.parse(r.first_seen_at),
          pubtimeAtFirstSight: r.pubtime === null ? undefined : Date.parse(r.pubtime),
        },
      ]),
    );
  }

  async recordFirstSightings(source: PolicySourceKey, crate: string, sightings: readonly FirstSighting[]): Promise<void> {
    const rows = sightings.map((s) => ({
      source,
      crate,
      version: s.version,
      first_seen_at: iso(s.firstSeenAt),
      pubtime: s.pubtimeAtFirstSight === undefined ? null : iso(s.pubtimeAtFirstSight),
    }));
    for (let i = 0; i < rows.length; i += ROWS_PER_STATEMENT) {
      // Another replica may have seen it first: its sighting stands.
      await this.scope.db
        .insertInto('policy_first_seen')
        .values(rows.slice(i, i + ROWS_PER_STATEMENT))
        .onConflict((oc) => oc.columns(['source', 'crate', 'version']).doNothing())
        .execute();
    }
  }

  async cratesSeenSince(source: PolicySourceKey, since: number, after: string | undefined, limit: number): Promise<string[]> {
    let query = this.scope.db
      .selectFrom('policy_first_seen')
      .select('crate')
      .distinct()
      .where('source', '=', source)
      .where((eb) => eb(eb.fn.coalesce('pubtime', 'first_seen_at'), '>=', iso(since)));
    if (after !== undefined) query = query.where('crate', '>', after);
    const rows = await query.orderBy('crate').limit(limit).execute();
    return rows.map((r) => r.crate);
  }
}
