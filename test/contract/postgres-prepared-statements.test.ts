// Prepared statements on a real PostgreSQL 15 (postgres-pool.ts): a statement the pool was told to
// prepare runs by name, parsed once per connection, with the same answers and errors as unnamed;
// every other statement stays unnamed; a connection that lost a prepared statement (a pooler in
// between) makes the pool send all unnamed; the batched index reads (postgres-index-reads.ts)
// run their two statements, one per form, by name; and the audit log's appends run one statement
// by name, whatever their number of events.

import assert from 'node:assert/strict';
import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { PostgresIndexReads } from '../../src/adapters/metadata/postgres-index-reads.js';
import { GuardedPool } from '../../src/adapters/metadata/postgres-pool.js';
import { AUDIT_APPEND_STATEMENT, prepareAuditAppendOnPostgres, SqlAuditLog } from '../../src/adapters/metadata/sql-audit-log.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import type { MetadataRepositories } from '../../src/ports/metadata-database.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';

const postgres = postgresServerForTests();

/** A migrated database on one connection, so that its session's prepared statements can be listed. */
async function oneConnection() {
  const url = await postgres().createDatabase();
  await (await openPostgresDatabase(url, { migrations: 'apply' })).close();
  const driverPool = new pg.Pool({ connectionString: url, max: 1 });
  /** How each statement went to the driver: by its name, or `unnamed`. */
  const sent: string[] = [];
  driverPool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      sent.push(typeof args[0] === 'string' ? 'unnamed' : ((args[0] as { name?: string }).name ?? 'unnamed'));
      return query(...args);
    };
  });
  const pool = new GuardedPool(driverPool, 10_000);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const preparedNames = async () =>
    (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db)).rows.map((row) => row.name);
  return { pool, db, preparedNames, sent };
}

describe('PostgreSQL prepared statements', () => {
  it('runs a prepared statement by name, parsed once on the connection, with the answers and errors of an unnamed one', async () => {
    const { pool, db, preparedNames } = await oneConnection();
    try {
      const square = sql<{ n: number }>`select ${2}::int * ${2}::int as n`.compile(db);
      pool.prepare(square.sql, 'probe_square');
      const run = async (value: unknown) =>
        (await db.executeQuery(sql<{ n: number }>`select ${value}::int * ${value}::int as n`.compile(db))).rows;
      assert.deepEqual(await preparedNames(), []);
      assert.deepEqual(await run(3), [{ n: 9 }]);
      assert.deepEqual(await run(12), [{ n: 144 }]);
      assert.deepEqual(await preparedNames(), ['probe_square']);
      // A bad parameter fails as it does unnamed: PostgreSQL's own error, and the connection stays.
      await assert.rejects(run('three'), (error: Error) => error instanceof pg.DatabaseError && error.code === '22P02');
      assert.deepEqual(await run(5), [{ n: 25 }]);
      assert.deepEqual(await preparedNames(), ['probe_square'], 'a statement not prepared was kept by name');
    } finally {
      await db.destroy();
    }
  });

  it('sends every statement unnamed once a connection lost one it had prepared, as behind PgBouncer in transaction mode', async () => {
    const { pool, db, preparedNames, sent } = await oneConnection();
    try {
      const run = async (value: number) => (await db.executeQuery(sql<{ n: number }>`select ${value}::int + 1 as n`.compile(db))).rows;
      pool.prepare(sql`select ${0}::int + 1 as n`.compile(db).sql, 'probe_plus_one');
      assert.deepEqual(await run(1), [{ n: 2 }]);
      assert.deepEqual(await preparedNames(), ['probe_plus_one']);
      // What a pooler does: the next server connection has never seen the statement.
      await sql`deallocate probe_plus_one`.execute(db);
      sent.length = 0;
      assert.deepEqual(await run(2), [{ n: 3 }]);
      assert.deepEqual(sent, ['probe_plus_one', 'unnamed'], 'the lost statement was not sent again unnamed');
      sent.length = 0;
      assert.deepEqual(await run(3), [{ n: 4 }]);
      assert.deepEqual(sent, ['unnamed'], 'a statement was sent by name again after a connection lost one');
      assert.deepEqual(await preparedNames(), [], 'the statement was prepared again after a connection lost it');
    } finally {
      await db.destroy();
    }
  });

  it('reads index files of both forms, batched, through the two prepared statements', async () => {
    const { pool, db, preparedNames } = await oneConnection();
    try {
      const big = Buffer.from('{"name":"big","vers":"1.0.0"}\n'.repeat(100));
      await db
        .insertInto('index_files')
        .values([
          { name_lower: 'small', body: Buffer.from('{"name":"small","vers":"0.1.0"}\n'), etag: '"s"', gzip: null },
          { name_lower: 'big', body: big, etag: '"b"', gzip: gzipSync(big) },
        ])
        .execute();
      const reads = new PostgresIndexReads(db, pool);
      const { crates } = reads.route({ crates: {} } as MetadataRepositories);
      const [small, gzipped, missing] = await Promise.all([
        crates.readIndexFile('small', 'gzip'),
        crates.readIndexFile('big', 'gzip'),
        crates.readIndexFile('none', 'gzip'),
      ]);
      assert.equal(small?.body?.toString(), '{"name":"small","vers":"0.1.0"}\n');
      assert.deepEqual(gunzipSync(gzipped!.gzipped!), big);
      assert.equal(missing, undefined);
      assert.deepEqual((await crates.readIndexFile('big', 'identity'))?.body, big);
      assert.deepEqual(await preparedNames(), ['cratekeeper_index_files_gzip', 'cratekeeper_index_files_identity']);
      await reads.close();
    } finally {
      await db.destroy();
    }
  });

  it('appends audit events through one prepared statement, whatever their number', async () => {
    const { pool, db, preparedNames, sent } = await oneConnection();
    try {
      prepareAuditAppendOnPostgres(pool, db);
      const log = new SqlAuditLog(db, 'postgres');
      const reads = (n: number) =>
        Array.from({ length: n }, (_, i) => ({
          at: '2026-01-01T00:00:00.000Z',
          action: 'index-read' as const,
          userLogin: 'alice',
          tokenId: 1,
          crate: `crate-${i}`,
          version: null,
          clientIp: '127.0.0.1',
          userAgent: 'cargo/1.95.0',
          detail: null,
          count: 1,
        }));
      sent.length = 0;
      await log.append(reads(3));
      await log.append(reads(250));
      assert.deepEqual(sent, [AUDIT_APPEND_STATEMENT, AUDIT_APPEND_STATEMENT]);
      assert.deepEqual(await preparedNames(), [AUDIT_APPEND_STATEMENT]);
      assert.equal((await log.query({ limit: 1, offset: 0 })).total, 253);
    } finally {
      await db.destroy();
    }
  });
});
