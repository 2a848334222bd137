// Crate owners in SQL: users (crate_owners) and groups (crate_owner_groups). Every change is
// recorded in the change log in the same transaction; a removal that would leave a crate without
// an owner rolls back.

import type { Owners } from '../../ports/owners.js';
import type { User } from '../../ports/users.js';
import { conflict } from '../../domain/errors.js';
import { SqlChangeLog } from './sql-change-log.js';
import { now, toUser, USER_COLUMNS } from './sql-rows.js';
import type { Db, SqlScope } from './sql-scope.js';

/** The crate's id and exact name, by its lower-case name. */
export function crateByLowerName(db: Db, lowerName: string) {
  return db.selectFrom('crates').select(['id', 'name']).where('name_lower', '=', lowerName).executeTakeFirst();
}

export class SqlOwners implements Owners {
  constructor(private readonly scope: SqlScope) {}

  async listOwners(lowerName: string): Promise<User[] | undefined> {
    const db = this.scope.db;
    const crate = await crateByLowerName(db, lowerName);
    if (!crate) return undefined;
    const rows = await db
      .selectFrom('crate_owners')
      .innerJoin('users', 'users.id', 'crate_owners.user_id')
      .select(USER_COLUMNS)
      .where('crate_owners.crate_id', '=', crate.id)
      .orderBy('users.login')
      .execute();
    return rows.map(toUser);
  }

  async listOwnerGroups(lowerName: string): Promise<string[] | undefined> {
    const db = this.scope.db;
    const crate = await crateByLowerName(db, lowerName);
    if (!crate) return undefined;
    const rows = await db
      .selectFrom('crate_owner_groups')
      .select('group_name')
      .where('crate_id', '=', crate.id)
      .orderBy('group_name')
      .execute();
    return rows.map((r) => r.group_name);
  }

  /** Makes the publisher of a new crate its first owner (part of a publish's transaction). */
  async addFirstOwner(crateId: number, userId: number, at: string): Promise<void> {
    await this.scope.db.insertInto('crate_owners').values({ crate_id: crateId, user_id: userId, created_at: at }).execute();
  }

  /** A user owns a crate directly or through a group that owns it. */
  async isOwner(crateId: number, userId: number): Promise<boolean> {
    const db = this.scope.db;
    const direct = await db
      .selectFrom('crate_owners')
      .select('user_id')
      .where('crate_id', '=', crateId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (direct) return true;
    const viaGroup = await db
      .selectFrom('crate_owner_groups')
      .innerJoin('group_members', 'group_members.group_name', 'crate_owner_groups.group_name')
      .select('group_members.user_id')
      .where('crate_owner_groups.crate_id', '=', crateId)
      .where('group_members.user_id', '=', userId)
      .executeTakeFirst();
    return viaGroup !== undefined;
  }

  async addOwners(lowerName: string, userIds: number[], groups: string[] = []): Promise<void> {
    await this.scope.atomically(async (tx) => {
      const crate = await crateByLowerName(tx.db, lowerName);
      if (!crate) return;
      for (const userId of userIds) {
        await tx.db
          .insertInto('crate_owners')
          .values({ crate_id: crate.id, user_id: userId, created_at: now() })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      for (const group of groups) {
        await tx.db
          .insertInto('crate_owner_groups')
          .values({ crate_id: crate.id, group_name: group, created_at: now() })
          .onConflict((oc) => oc.doNothing())
          .execute();
      }
      await new SqlChangeLog(tx).record('crate', lowerName);
    });
  }

  async removeOwners(lowerName: string, userIds: number[], groups: string[] = []): Promise<void> {
    await this.scope.atomically(async (tx) => {
      const crate = await crateByLowerName(tx.db, lowerName);
      if (!crate || userIds.length + groups.length === 0) return;
      if (userIds.length > 0) {
        await tx.db.deleteFrom('crate_owners').where('crate_id', '=', crate.id).where('user_id', 'in', userIds).execute();
      }
      if (groups.length > 0) {
        await tx.db.deleteFrom('crate_owner_groups').where('crate_id', '=', crate.id).where('group_name', 'in', groups).execute();
      }
      const users = await tx.db
        .selectFrom('crate_owners')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('crate_id', '=', crate.id)
        .executeTakeFirstOrThrow();
      const ownerGroups = await tx.db
        .selectFrom('crate_owner_groups')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('crate_id', '=', crate.id)
        .executeTakeFirstOrThrow();
      // Rolling back keeps the owners as they were: a crate without owners could never change again.
      if (Number(users.n) + Number(ownerGroups.n) === 0) {
        throw conflict('last-owner', `cannot remove every owner of crate \`${crate.name}\`; add another owner first`);
      }
      await new SqlChangeLog(tx).record('crate', lowerName);
    });
  }
}
