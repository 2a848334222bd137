// The AuditLog contract on SQLite, a fresh database file per test; plans from EXPLAIN QUERY PLAN.

import { join } from 'node:path';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { SqlAuditLog } from '../../src/adapters/metadata/sql-audit-log.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { auditLogContract, type OpenedAuditLog } from './audit-log.contract.js';

const dir = makeTempDir('cratekeeper-audit-sqlite-');
let databases = 0;

/** The log on a connection of its own, which notes each statement it runs to explain it later. */
function openLogged(file: string): OpenedAuditLog {
  const connection = openSqliteConnection(file);
  const ran: CompiledQuery[] = [];
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }), log: (e) => void ran.push(e.query) });
  return {
    log: new SqlAuditLog(db, 'sqlite'),
    async plans() {
      return ran.splice(0).map((q) =>
        connection
          .prepare(`explain query plan ${q.sql}`)
          .all(...q.parameters)
          .map((step) => (step as { detail: string }).detail)
          .join('\n'),
      );
    },
    close: () => db.destroy(),
  };
}

auditLogContract('sqlite', {
  async open() {
    const file = join(dir, `audit-${++databases}.sqlite`);
    await (await openSqliteDatabase(file, { migrations: 'apply' })).close();
    return openLogged(file);
  },
  fullScan: /\bSCAN audit_events\b/,
  beforeThroughTimeIndex: /SEARCH audit_events USING (COVERING )?INDEX audit_events_at \(at<\?\)/,
});
