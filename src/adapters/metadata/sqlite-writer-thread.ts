// The worker thread of sqlite-writer.ts: the registry's background writes on SQLite (audit events,
// download counts, token last-use, shared rate counts, and their pruning) run here on a connection
// of their own, through the same SQL classes as everywhere else. A commit's fsync, the automatic
// WAL checkpoint that SQLite runs inside a commit, and a wait for the write lock then hold this
// thread, never the event loop that answers index and download requests. The server's connection
// leaves checkpoints to this one (sqlite.ts), which also runs a PASSIVE one on a timer, so the WAL
// stays bounded when only the server's own writes (publishes) grow it.

import { Kysely, SqliteDialect } from 'kysely';
import { parentPort, workerData } from 'node:worker_threads';
import { RegistryError } from '../../domain/errors.js';
import type { AuditEvent } from '../../ports/audit-log.js';
import type { VersionDayCount } from '../../ports/download-counts.js';
import { SqlAuditLog } from './sql-audit-log.js';
import { SqlDownloadCounts } from './sql-download-counts.js';
import { SqlRateCounts } from './sql-rate-counts.js';
import type { Database } from './sql-schema.js';
import { SqlScope } from './sql-scope.js';
import { SqlTokens } from './sql-tokens.js';
import { busyAsUnavailable } from './sqlite-busy.js';
import { openSqliteConnection } from './sqlite-driver.js';
import { SQLITE_RULES } from './sqlite-rules.js';
import type { SerializedError, WriterReply, WriterRequest, WriterSettings } from './sqlite-writer.js';

const settings = workerData as WriterSettings;
const connection = openSqliteConnection(settings.file, { timeout: settings.busyTimeoutMs }, settings.driverPath);
// The same durability as the server's connection: a write reported done is on disk.
connection.pragma('synchronous = FULL');
connection.pragma('foreign_keys = ON');
const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: busyAsUnavailable(connection) }) });
const scope = SqlScope.onConnection(db, SQLITE_RULES);
const auditLog = new SqlAuditLog(db);
const downloadCounts = new SqlDownloadCounts(scope);
const tokens = new SqlTokens(scope);
const rateCounts = new SqlRateCounts(db);

const operations = {
  appendAudit: (events: readonly AuditEvent[]) => auditLog.append(events),
  pruneAudit: (before: string) => auditLog.prune(before),
  addDownloads: (counts: readonly VersionDayCount[]) => downloadCounts.add(counts),
  recordTokenUse: (lastUse: ReadonlyMap<number, string>) => tokens.recordTokenUse(lastUse),
  addRateCounts: (limiter: string, window: number, events: ReadonlyMap<string, number>) => rateCounts.add(limiter, window, events),
  pruneRateCounts: (window: number) => rateCounts.prune(window),
};
export type WriterOperations = typeof operations;

function serialize(error: unknown): SerializedError {
  if (error instanceof RegistryError)
    return { registry: { kind: error.kind, code: error.code, retryAfterSeconds: error.retryAfterSeconds }, message: error.message };
  const { message, code } = error as { message?: unknown; code?: unknown };
  return { message: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) };
}

// Failing is the caller's to report (it keeps its batch); a checkpoint that cannot run now
// (a reader holds old pages) runs at the next tick.
const checkpoints = setInterval(() => {
  try {
    connection.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy: the next tick tries again
  }
}, settings.checkpointMs);
checkpoints.unref();

let closing = false;
parentPort!.on('message', (request: WriterRequest) => {
  void handle(request);
});

async function handle(request: WriterRequest): Promise<void> {
  let reply: WriterReply;
  try {
    if (request.op === 'close') {
      closing = true;
      clearInterval(checkpoints);
      await db.destroy();
      reply = { id: request.id, value: undefined };
    } else if (closing) {
      throw new Error('the background writer is closed');
    } else {
      const run = operations[request.op] as (...args: unknown[]) => Promise<unknown>;
      reply = { id: request.id, value: await run(...request.args) };
    }
  } catch (error) {
    reply = { id: request.id, error: serialize(error) };
  }
  parentPort!.postMessage(reply);
  if (request.op === 'close') parentPort!.close();
}
