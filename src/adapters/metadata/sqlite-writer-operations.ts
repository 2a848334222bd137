// What the SQLite writer thread (sqlite-thread-worker.ts) runs: the registry's background writes,
// through the same SQL classes as everywhere else.

import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { AuditEvent } from '../../ports/audit-log.js';
import type { VersionDayCount } from '../../ports/download-counts.js';
import { SqlAuditLog } from './sql-audit-log.js';
import { SqlDownloadCounts } from './sql-download-counts.js';
import { SqlRateCounts } from './sql-rate-counts.js';
import type { Database } from './sql-schema.js';
import { SqlScope } from './sql-scope.js';
import { SqlTokens } from './sql-tokens.js';
import { busyAsUnavailable } from './sqlite-busy.js';
import { SQLITE_RULES } from './sqlite-rules.js';
import { reusingStatements } from './sqlite-statement-cache.js';

export function writerOperations(connection: BetterSqlite3.Database) {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: busyAsUnavailable(reusingStatements(connection)) }) });
  const scope = SqlScope.onConnection(db, SQLITE_RULES);
  const auditLog = new SqlAuditLog(db, 'sqlite');
  const downloadCounts = new SqlDownloadCounts(scope);
  const tokens = new SqlTokens(scope);
  const rateCounts = new SqlRateCounts(db);
  return {
    operations: {
      appendAudit: (events: readonly AuditEvent[]) => auditLog.append(events),
      pruneAudit: (before: string) => auditLog.prune(before),
      addDownloads: (counts: readonly VersionDayCount[]) => downloadCounts.add(counts),
      recordTokenUse: (lastUse: ReadonlyMap<number, string>) => tokens.recordTokenUse(lastUse),
      addRateCounts: (limiter: string, window: number, events: ReadonlyMap<string, number>) => rateCounts.add(limiter, window, events),
      pruneRateCounts: (window: number) => rateCounts.prune(window),
    },
    close: () => db.destroy(),
  };
}

export type WriterOperations = ReturnType<typeof writerOperations>['operations'];
