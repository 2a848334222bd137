// Group memberships in SQL; every change is recorded in the change log in the same transaction.

import type { Groups } from '../../ports/groups.js';
import type { User } from '../../ports/users.js';
import { SqlChangeLog } from './sql-change-log.js';
import { now, toUser, USER_COLUMNS } from './sql-rows.js';
import type { SqlScope } from './sql-scope.js';

export class SqlGroups implements Groups {
  constructor(private readonly scope: SqlScope) {}

  async addGroupMember(group: string, userId: number): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const result = await tx.db
        .insertInto('group_members')
        .values({ group_name: group, user_id: userId, created_at: now() })
        .onConflict((oc) => oc.doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) return false;
      await new SqlChangeLog(tx).record('user', String(userId));
      return true;
    });
  }

  async removeGroupMember(group: string, userId: number): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const result = await tx.db
        .deleteFrom('group_members')
        .where('group_name', '=', group)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      await new SqlChangeLog(tx).record('user', String(userId));
      return true;
    });
  }

  async listGroupMembers(group: string): Promise<User[]> {
    const rows = await this.scope.db
      .selectFrom('group_members')
      .innerJoin('users', 'users.id', 'group_members.user_id')
      .select(USER_COLUMNS)
      .where('group_members.group_name', '=', group)
      .orderBy('users.login')
      .execute();
    return rows.map(toUser);
  }

  async replaceGroups(userId: number, source: string, groups: readonly string[]): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const wanted = new Set(groups);
      const current = await tx.db.selectFrom('group_members').select(['group_name', 'source']).where('user_id', '=', userId).execute();
      const stale = current.filter((m) => m.source === source && !wanted.has(m.group_name)).map((m) => m.group_name);
      const have = new Set(current.map((m) => m.group_name));
      const missing = [...wanted].filter((g) => !have.has(g));
      if (stale.length > 0) {
        await tx.db
          .deleteFrom('group_members')
          .where('user_id', '=', userId)
          .where('source', '=', source)
          .where('group_name', 'in', stale)
          .execute();
      }
      const at = now();
      for (const group of missing) {
        await tx.db
          .insertInto('group_members')
          .values({ group_name: group, user_id: userId, created_at: at, source })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      if (stale.length === 0 && missing.length === 0) return false;
      await new SqlChangeLog(tx).record('user', String(userId));
      return true;
    });
  }
}
