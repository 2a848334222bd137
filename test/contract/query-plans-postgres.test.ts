// Plans of search statements on a real PostgreSQL 15, from EXPLAIN of the statements the
// repositories ran: a query of two characters, which no trigram index can look up, finds its crates
// in the index of each name's pairs of characters (migration 21), not by reading every crate's name
// (22-25 ms at 150,000 crates, bench/README.md). The planner is told to avoid reading whole tables,
// so the plan says whether the statement can use the index at all, whatever the table's size.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';
import { newVersion } from './repository-fixtures.js';

describe('query plans on PostgreSQL', () => {
  const postgres = postgresServerForTests();

  it('looks a query of two characters up in the index of name pairs', async () => {
    const url = await postgres().createDatabase();
    const registry = await openPostgresDatabase(url, { migrations: 'apply' });
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    const ran: CompiledQuery[] = [];
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (e) => void ran.push(e.query) });
    const logged = new SqlMetadataDatabase(db, { name: 'postgres', isUniqueViolation: () => false });
    try {
      const alice = await registry.users.createUser('alice', false);
      for (const name of ['serde', 'parse-it', 'tokio', 'se']) await registry.crates.publishVersion(newVersion(name, '1.0.0', alice.id));
      const planOf = async (query: CompiledQuery) => {
        const client = await pool.connect();
        try {
          await client.query('set enable_seqscan = off');
          const rows = (await client.query(`explain ${query.sql}`, [...query.parameters])).rows as { 'QUERY PLAN': string }[];
          return rows.map((row) => row['QUERY PLAN']).join('\n');
        } finally {
          await client.query('reset enable_seqscan');
          client.release();
        }
      };
      const searched = async (q: string) => {
        ran.length = 0;
        const { total, hits } = await logged.search.searchCrates(q, 10, 0);
        const ranked = ran.find((query) => /count\(\*\) over \(\)/.test(query.sql));
        assert.ok(ranked, ran.map((query) => query.sql).join('\n'));
        return { total, names: hits.map((h) => h.name), plan: await planOf(ranked) };
      };

      const pair = await searched('SE');
      assert.deepEqual({ total: pair.total, names: pair.names }, { total: 3, names: ['se', 'serde', 'parse-it'] });
      assert.match(pair.plan, /Bitmap Index Scan on crates_name_pairs/, pair.plan);
      // `-` is `_` in a normalized name: the pair is looked up as `e_`.
      const hyphen = await searched('e-');
      assert.deepEqual({ total: hyphen.total, names: hyphen.names }, { total: 1, names: ['parse-it'] });
      assert.match(hyphen.plan, /crates_name_pairs/, hyphen.plan);
      // One character is in most names: it is matched by reading them, as before.
      const single = await searched('o');
      assert.deepEqual({ total: single.total, names: single.names }, { total: 1, names: ['tokio'] });
      assert.doesNotMatch(single.plan, /crates_name_pairs/, single.plan);
    } finally {
      await db.destroy();
      await registry.close();
    }
  });
});
