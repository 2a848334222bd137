// The AuditLog contract on a real PostgreSQL 15: one server for this file, an empty database per
// test. Plans come from EXPLAIN with sequential scans switched off, so that a plan names an index
// whenever one can answer: the tables here are too small for the planner to prefer one.

import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { SqlAuditLog } from '../../src/adapters/metadata/sql-audit-log.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';
import { auditLogContract, type OpenedAuditLog } from './audit-log.contract.js';

const postgres = postgresServerForTests();

/** The log on a pool of its own, which notes each statement it runs to explain it later. */
function openLogged(url: string): OpenedAuditLog {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const ran: CompiledQuery[] = [];
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), log: (e) => void ran.push(e.query) });
  return {
    log: new SqlAuditLog(db, 'postgres'),
    async plans() {
      const client = await pool.connect();
      try {
        await client.query('set enable_seqscan = off');
        const plans: string[] = [];
        for (const q of ran.splice(0)) {
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(`explain ${q.sql}`, [...q.parameters]);
          plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
        }
        return plans;
      } finally {
        await client.query('reset enable_seqscan');
        client.release();
      }
    },
    close: () => db.destroy(),
  };
}

auditLogContract('postgres', {
  async open() {
    const url = await postgres().createDatabase();
    await (await openPostgresDatabase(url, { migrations: 'apply' })).close();
    return openLogged(url);
  },
  fullScan: /Seq Scan on audit_events|Scan using audit_events_at\b/,
  beforeThroughTimeIndex: /(Index (Only )?Scan using|Bitmap Index Scan on) audit_events_at\b[^\n]*\n\s*Index Cond: \(at < /,
});
