// The audit log in the same SQL database as the metadata (SQLite or PostgreSQL), through Kysely.

import { sql, type Kysely } from 'kysely';
import type { AuditEvent, AuditLog, AuditQuery } from '../../ports/audit-log.js';
import type { GuardedPool } from './postgres-pool.js';
import type { Database } from './sql-schema.js';
import type { SqlDialectRules } from './sql-scope.js';

/** Audit events removed per statement when old ones are pruned. */
const PRUNE_BATCH = 2000;
/** Events per INSERT on SQLite, whose statements take one parameter per value (ten an event). */
const ROWS_PER_INSERT = 200;
/** Events per INSERT on PostgreSQL, where a statement takes one array per column whatever their number. */
const ROWS_PER_ARRAY_INSERT = 1000;

/** The name under which PostgreSQL connections keep the append statement prepared. */
export const AUDIT_APPEND_STATEMENT = 'cratekeeper_audit_append';

export class SqlAuditLog implements AuditLog {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: SqlDialectRules['name'],
  ) {}

  async append(events: readonly AuditEvent[]): Promise<void> {
    const [perInsert, insert] =
      this.dialect === 'postgres'
        ? [ROWS_PER_ARRAY_INSERT, (slice: readonly AuditEvent[]) => appendOnPostgres(slice).execute(this.db)]
        : [ROWS_PER_INSERT, (slice: readonly AuditEvent[]) => this.insertRows(slice)];
    for (let i = 0; i < events.length; i += perInsert) await insert(events.slice(i, i + perInsert));
  }

  private async insertRows(events: readonly AuditEvent[]): Promise<void> {
    await this.db
      .insertInto('audit_events')
      .values(
        events.map((e) => ({
          at: e.at,
          action: e.action,
          user_login: e.userLogin,
          token_id: e.tokenId,
          crate: e.crate,
          version: e.version,
          client_ip: e.clientIp,
          user_agent: e.userAgent,
          detail: e.detail,
          count: e.count,
        })),
      )
      .execute();
  }

  async query(q: AuditQuery): Promise<{ total: number; events: (AuditEvent & { id: number })[] }> {
    let base = this.db.selectFrom('audit_events');
    if (q.crate !== undefined) base = base.where('crate', '=', q.crate);
    if (q.user !== undefined) base = base.where('user_login', '=', q.user);
    if (q.action !== undefined) base = base.where('action', '=', q.action);
    if (q.since !== undefined) base = base.where('at', '>=', q.since);
    if (q.until !== undefined) base = base.where('at', '<', q.until);
    const totalRow = await base.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const rows = await base.selectAll().orderBy('at', 'desc').orderBy('id', 'desc').limit(q.limit).offset(q.offset).execute();
    return {
      total: Number(totalRow.n),
      events: rows.map((r) => ({
        id: r.id,
        at: r.at,
        action: r.action as AuditEvent['action'],
        userLogin: r.user_login,
        tokenId: r.token_id,
        crate: r.crate,
        version: r.version,
        clientIp: r.client_ip,
        userAgent: r.user_agent,
        detail: r.detail,
        count: r.count,
      })),
    };
  }

  /**
   * In batches, each its own statement: one DELETE of a year of download events would hold the
   * write lock for seconds, and a publish meanwhile would wait for it. Between two batches the
   * lock is free, and the process's other work gets a turn. Each batch is the oldest events, found
   * through the time index: a batch taken in `id` order walked the whole log to learn that nothing
   * was old enough (1.5 s at 9M events, the write lock held throughout).
   */
  async prune(before: string): Promise<number> {
    let removed = 0;
    for (;;) {
      const result = await this.db
        .deleteFrom('audit_events')
        .where('id', 'in', (eb) => eb.selectFrom('audit_events').select('id').where('at', '<', before).orderBy('at').limit(PRUNE_BATCH))
        .executeTakeFirst();
      const batch = Number(result.numDeletedRows);
      removed += batch;
      if (batch < PRUNE_BATCH) return removed;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

/**
 * The append on PostgreSQL: one array a column, turned into rows by `unnest`. Its text is the same
 * whatever the number of events, so connections keep it prepared (AUDIT_APPEND_STATEMENT). Under
 * cold index reads every read is an event, and a VALUES list of 200 rows (2,000 parameters) cost
 * about twice the event loop's time to build and PostgreSQL's to parse and run (bench/README.md).
 */
function appendOnPostgres(events: readonly AuditEvent[]) {
  const column = <T>(value: (event: AuditEvent) => T) => events.map(value);
  return sql`insert into audit_events (at, action, user_login, token_id, crate, version, client_ip, user_agent, detail, count)
    select * from unnest(${column((e) => e.at)}::text[], ${column((e) => e.action)}::text[], ${column((e) => e.userLogin)}::text[],
      ${column((e) => e.tokenId)}::integer[], ${column((e) => e.crate)}::text[], ${column((e) => e.version)}::text[],
      ${column((e) => e.clientIp)}::text[], ${column((e) => e.userAgent)}::text[], ${column((e) => e.detail)}::text[],
      ${column((e) => e.count)}::integer[])`;
}

/** Has the pool's connections keep the append prepared (postgres.ts opens the database with it). */
export function prepareAuditAppendOnPostgres(pool: Pick<GuardedPool, 'prepare'>, db: Kysely<Database>): void {
  pool.prepare(appendOnPostgres([]).compile(db).sql, AUDIT_APPEND_STATEMENT);
}
