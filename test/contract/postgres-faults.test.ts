// The PostgreSQL store against a real server that stops answering (every process SIGSTOPped) or is
// slow: a query fails with `unavailable` naming the database instead of hanging, the connection it
// was on is closed (never handed out again), and the store works again after the thaw by itself.
// Each await has a deadline that only detects a hang.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openPostgresDatabase, type PostgresTimeouts } from '../../src/adapters/metadata/postgres.js';
import type { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import { RegistryError } from '../../src/domain/errors.js';
import { eventually } from '../support/eventually.js';
import { withinOrHang } from '../support/hang-guard.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';

const HANG_MS = 20_000;

const noHang = <T>(promise: Promise<T>, what: string): Promise<T> => withinOrHang(promise, HANG_MS, what);

const TIMEOUTS: PostgresTimeouts = { connectMs: 1_000, queryMs: 1_500, statementMs: 1_000, idleMs: 10_000, idleInTransactionMs: 10_000 };

function isDatabaseUnavailable(port: number) {
  return (error: unknown) => {
    assert.ok(error instanceof RegistryError, `not a RegistryError: ${String(error)}`);
    assert.equal(error.kind, 'unavailable');
    assert.equal(error.message, 'the database is not answering; try again shortly');
    assert.ok(!error.message.includes(String(port)));
    assert.ok(error.cause !== undefined, 'the driver error is not kept for the log');
    return true;
  };
}

describe('PostgreSQL store when the server stops answering', () => {
  let server: PostgresServer;
  let store: SqlMetadataDatabase;
  const backendPid = async () => (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(store.db)).rows[0]!.pid;

  before(async () => {
    server = await startPostgresServer();
    store = await openPostgresDatabase(await server.createDatabase(), { timeouts: TIMEOUTS });
  });
  after(async () => {
    server?.thaw();
    await store?.close();
    await server?.stop();
  });

  it('fails a query on a frozen server, closes its connection, and heals after the thaw', async () => {
    const before = await backendPid();
    server.freeze();
    try {
      await noHang(assert.rejects(store.changes.latestChangeSeq(), isDatabaseUnavailable(server.port)), 'a query on a frozen server');
      // No connection can be had either (the pool's connections are opened and never answered).
      await noHang(assert.rejects(store.users.findUserByLogin('admin'), isDatabaseUnavailable(server.port)), 'another query');
    } finally {
      server.thaw();
    }
    const after = await noHang(eventually(backendPid), 'the first query after the thaw');
    assert.notEqual(after, before, 'the connection whose query timed out was handed out again');
    // The server let go of the old session too (it saw the connection close).
    await eventually(async () => {
      const rows = (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where pid = ${before}`.execute(store.db)).rows;
      assert.equal(rows[0]!.n, 0, `the backend ${before} of the closed connection is still there`);
    });
  });

  it('a statement slower than statement_timeout_ms is cancelled by the server: unavailable, and the connection stays usable', async () => {
    const pid = await backendPid();
    await noHang(assert.rejects(sql`select pg_sleep(5)`.execute(store.db), isDatabaseUnavailable(server.port)), 'a slow statement');
    assert.equal(await backendPid(), pid, 'a connection the server answered on was closed for no reason');
  });
});
