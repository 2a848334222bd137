// The work queues that every process polls every few seconds (webhook deliveries, docs builds), on a
// real PostgreSQL 15 with a history the size of a busy registry's: finished rows are kept, the
// waiting ones are the newest. A claim must find the waiting rows through its index. Ordered by id,
// PostgreSQL's planner chose to walk the primary key from the oldest row and filter, which read the
// whole history on every poll (about a second at a million rows). Checked with EXPLAIN ANALYZE on
// the statements the repositories ran: the rows they read and threw away stay few.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';

const postgres = postgresServerForTests();

/** Rows a plan read and discarded, over all its steps (`Rows Removed by Filter`, times its loops). */
function rowsThrownAway(plan: string): number {
  return [...plan.matchAll(/Rows Removed by Filter: (\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
}

/** A migrated database whose repositories note each statement they run. */
async function loggedStore() {
  const url = await postgres().createDatabase();
  await (await openPostgresDatabase(url, { migrations: 'apply' })).close();
  const ran: CompiledQuery[] = [];
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
    log: (e) => void ran.push(e.query),
  });
  const store = new SqlMetadataDatabase(db, { name: 'postgres', isUniqueViolation: () => false });
  /** EXPLAIN ANALYZE of each SELECT the repositories ran since the last call. */
  const selectPlans = async () => {
    const plans: string[] = [];
    for (const q of ran.splice(0).filter((q) => /^select/i.test(q.sql))) {
      const { rows } = await db.executeQuery<{ 'QUERY PLAN': string }>({ ...q, sql: `explain analyze ${q.sql}` });
      plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
    }
    return plans;
  };
  return { db, store, ran, selectPlans };
}

const T0 = '2026-06-01T00:00:00.000Z';
const LATER = '2026-06-02T00:00:00.000Z';

describe('PostgreSQL work queues with a long history', () => {
  it('claims due webhook deliveries through the due index, not by walking every delivery', async () => {
    const { db, store, ran, selectPlans } = await loggedStore();
    try {
      // 400,000 delivered, then 40,000 pending: a receiver that was down for a while.
      await sql`insert into webhook_deliveries (delivery_id, endpoint, event, body, status, attempts, next_attempt_at, claimed_until, created_at)
        select 'd' || n, 'hook', 'publish', '{}', case when n <= 400000 then 'delivered' else 'pending' end, 1, ${T0}, ${T0}, ${T0}
        from generate_series(1, 440000) as n`.execute(db);
      await sql`analyze webhook_deliveries`.execute(db);
      ran.length = 0;
      const claimed = await store.webhookDeliveries.claimDue(LATER, '2026-06-03T00:00:00.000Z', 'claimant', 10);
      assert.deepEqual(
        claimed.map((d) => d.deliveryId),
        Array.from({ length: 10 }, (_, i) => `d${400001 + i}`),
      );
      // One query finds the candidates; each claim is then an UPDATE of one row by id.
      const plans = await selectPlans();
      assert.equal(plans.length, 1, plans.join('\n\n'));
      assert.match(plans[0]!, /webhook_deliveries_due/, plans[0]);
      assert.ok(rowsThrownAway(plans[0]!) < 1000, plans[0]);
    } finally {
      await db.destroy();
    }
  });

  it('claims the oldest queued docs build through the status index, not by walking every build', async () => {
    const { db, store, ran, selectPlans } = await loggedStore();
    try {
      // 400,000 builds done, then 2,000 queued (a burst of publishes), and one build whose builder died.
      await sql`insert into doc_builds (crate, version, status, created_at, lease_expires_at)
        select 'crate-' || n, '1.0.0', case when n <= 400000 then 'done' else 'queued' end, ${T0}, null
        from generate_series(1, 402000) as n`.execute(db);
      await sql`update doc_builds set status = 'building', lease_owner = 'gone', lease_expires_at = ${T0} where crate = 'crate-401500'`.execute(
        db,
      );
      await sql`analyze doc_builds`.execute(db);
      ran.length = 0;
      const first = await store.docBuilds.claim('builder', LATER, '2026-06-02T01:00:00.000Z');
      assert.equal(first?.crate, 'crate-400001');
      assert.equal(first?.status, 'building');
      const plans = await selectPlans();
      const candidates = plans.filter((p) => /status/.test(p));
      assert.ok(candidates.length > 0, plans.join('\n\n'));
      for (const plan of candidates) {
        assert.match(plan, /doc_builds_status/, plan);
        assert.ok(rowsThrownAway(plan) < 1000, plan);
      }
      // The build whose lease ran out is taken in its turn (by id), not lost behind the queued ones.
      await sql`update doc_builds set status = 'done' where status = 'queued' and id < (select id from doc_builds where crate = 'crate-401500')`.execute(
        db,
      );
      assert.equal((await store.docBuilds.claim('builder', LATER, '2026-06-02T01:00:00.000Z'))?.crate, 'crate-401500');
    } finally {
      await db.destroy();
    }
  });
});
