// Rustdoc builds in SQL (ports/doc-builds.ts). A claim is an UPDATE guarded by the row's state, so
// on either database only one process wins it, without locks held across the build.

import type { Selectable } from 'kysely';
import type { DocBuild, DocBuilds, DocStatus } from '../../ports/doc-builds.js';
import type { SqlScope } from './sql-scope.js';
import type { Database } from './sql-schema.js';

function toDocBuild(row: Selectable<Database['doc_builds']>): DocBuild {
  return {
    id: row.id,
    crate: row.crate,
    version: row.version,
    status: row.status as DocStatus,
    log: row.log,
    docsKey: row.docs_key,
    attempts: row.attempts,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

/** Builds a claim tries, when other processes claim at the same time. */
const CANDIDATES = 5;

export class SqlDocBuilds implements DocBuilds {
  constructor(private readonly scope: SqlScope) {}

  async enqueue(crate: string, version: string, at: string): Promise<boolean> {
    const result = await this.scope.db
      .insertInto('doc_builds')
      .values({ crate, version, status: 'queued', docs_key: null, uploaded_by: null, created_at: at })
      .onConflict((c) => c.columns(['crate', 'version']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async claim(owner: string, at: string, leaseUntil: string): Promise<DocBuild | undefined> {
    const db = this.scope.db;
    // A few candidates, oldest first: another process may win the first; then the next is tried.
    // Queued builds and builds whose lease expired are found apart, each in the status index: as
    // one query (an OR, ordered by id) PostgreSQL walked every build ever made to find them, over a
    // second a poll at 1.5M builds.
    const oldest = (status: 'queued' | 'building') => {
      let query = db.selectFrom('doc_builds').select('id').where('status', '=', status);
      if (status === 'building') query = query.where('lease_expires_at', '<', at);
      return query.orderBy('id').limit(CANDIDATES).execute();
    };
    const candidates = [...(await oldest('building')), ...(await oldest('queued'))].sort((a, b) => a.id - b.id).slice(0, CANDIDATES);
    for (const { id } of candidates) {
      const taken = await db
        .updateTable('doc_builds')
        .set((eb) => ({
          status: 'building',
          lease_owner: owner,
          lease_expires_at: leaseUntil,
          started_at: at,
          attempts: eb('attempts', '+', 1),
        }))
        .where('id', '=', id)
        .where((eb) => eb.or([eb('status', '=', 'queued'), eb.and([eb('status', '=', 'building'), eb('lease_expires_at', '<', at)])]))
        .executeTakeFirst();
      if (Number(taken.numUpdatedRows) === 1) {
        const row = await db.selectFrom('doc_builds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
        return toDocBuild(row);
      }
    }
    return undefined;
  }

  async finish(
    id: number,
    owner: string,
    outcome: { status: 'done' | 'failed'; log: string; docsKey: string | null },
    at: string,
  ): Promise<{ finished: boolean; previousDocsKey: string | null }> {
    return this.scope.atomically(async (tx) => {
      const row = await tx.db
        .selectFrom('doc_builds')
        .select(['docs_key', 'lease_owner', 'status'])
        .where('id', '=', id)
        .executeTakeFirst();
      if (!row || row.status !== 'building' || row.lease_owner !== owner) return { finished: false, previousDocsKey: null };
      await tx.db
        .updateTable('doc_builds')
        .set({
          status: outcome.status,
          log: outcome.log,
          // A failed build keeps the docs it had (none, unless an upload raced it).
          docs_key: outcome.docsKey ?? row.docs_key,
          lease_owner: null,
          lease_expires_at: null,
          finished_at: at,
        })
        .where('id', '=', id)
        .execute();
      return { finished: true, previousDocsKey: outcome.docsKey !== null ? row.docs_key : null };
    });
  }

  async recordUpload(
    crate: string,
    version: string,
    docsKey: string,
    userId: number,
    at: string,
  ): Promise<{ previousDocsKey: string | null }> {
    return this.scope.atomically(async (tx) => {
      const row = await tx.db
        .selectFrom('doc_builds')
        .select(['id', 'docs_key'])
        .where('crate', '=', crate)
        .where('version', '=', version)
        .executeTakeFirst();
      const values = {
        status: 'uploaded',
        log: '',
        docs_key: docsKey,
        uploaded_by: userId,
        lease_owner: null,
        lease_expires_at: null,
        started_at: at,
        finished_at: at,
      };
      if (row) await tx.db.updateTable('doc_builds').set(values).where('id', '=', row.id).execute();
      else
        await tx.db
          .insertInto('doc_builds')
          .values({ crate, version, created_at: at, ...values })
          .execute();
      return { previousDocsKey: row?.docs_key ?? null };
    });
  }

  async find(crate: string, version: string): Promise<DocBuild | undefined> {
    const row = await this.scope.db
      .selectFrom('doc_builds')
      .selectAll()
      .where('crate', '=', crate)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? toDocBuild(row) : undefined;
  }

  async listForCrate(crate: string): Promise<DocBuild[]> {
    const rows = await this.scope.db.selectFrom('doc_builds').selectAll().where('crate', '=', crate).orderBy('id', 'desc').execute();
    return rows.map(toDocBuild);
  }

  async remove(id: number): Promise<string | null> {
    const row = await this.scope.db.deleteFrom('doc_builds').where('id', '=', id).returning('docs_key').executeTakeFirst();
    return row?.docs_key ?? null;
  }
}
