// The change log in SQL: one row per change, numbered by `seq`. Writers record a change in their
// own transaction (`record`); on PostgreSQL the dialect's hook first takes the lock that makes seq
// order commit order (postgres.ts).

import type { Change, ChangeLog } from '../../ports/change-log.js';
import { now } from './sql-rows.js';
import type { SqlScope } from './sql-scope.js';

/** Changes a poller gets at most per call. */
const PAGE = 10_000;

export class SqlChangeLog implements ChangeLog {
  constructor(private readonly scope: SqlScope) {}

  /** Records a change; call it in the transaction of the write it describes. */
  async record(kind: Change['kind'], subject: string): Promise<void> {
    await this.scope.rules.beforeRecordChange?.(this.scope.db);
    await this.scope.db.insertInto('changes').values({ kind, subject, created_at: now() }).execute();
  }

  async changesSince(seq: number): Promise<Change[]> {
    const rows = await this.scope.db
      .selectFrom('changes')
      .select(['seq', 'kind', 'subject'])
      .where('seq', '>', seq)
      .orderBy('seq')
      .limit(PAGE)
      .execute();
    return rows.map((r) => ({ seq: r.seq, kind: r.kind as Change['kind'], subject: r.subject }));
  }

  async latestChangeSeq(): Promise<number> {
    const row = await this.scope.db
      .selectFrom('changes')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirst();
    return Number(row?.seq ?? 0);
  }
}
