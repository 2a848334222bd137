// Users in SQL: accounts, password hashes and links to OpenID provider identities.

import { conflict } from '../../domain/errors.js';
import type { User, Users } from '../../ports/users.js';
import { SqlChangeLog } from './sql-change-log.js';
import { now, toUser, USER_COLUMNS } from './sql-rows.js';
import type { SqlScope } from './sql-scope.js';

export class SqlUsers implements Users {
  constructor(private readonly scope: SqlScope) {}

  async createUser(login: string, isAdmin: boolean): Promise<User> {
    try {
      const row = await this.scope.db
        .insertInto('users')
        .values({ login, is_admin: isAdmin ? 1 : 0, created_at: now() })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toUser(row);
    } catch (error) {
      if (this.scope.rules.isUniqueViolation(error)) throw conflict('user-exists', `a user named \`${login}\` already exists`);
      throw error;
    }
  }

  async findUserByLogin(login: string): Promise<User | undefined> {
    const row = await this.scope.db.selectFrom('users').selectAll().where('login', '=', login).executeTakeFirst();
    return row && toUser(row);
  }

  async findUserById(id: number): Promise<User | undefined> {
    const row = await this.scope.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toUser(row);
  }

  async countUsers(): Promise<number> {
    const row = await this.scope.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async setPasswordHash(userId: number, hash: string | null): Promise<void> {
    await this.scope.db.updateTable('users').set({ password_hash: hash }).where('id', '=', userId).execute();
  }

  async findPasswordHash(login: string): Promise<{ user: User; passwordHash: string | null } | undefined> {
    const row = await this.scope.db.selectFrom('users').selectAll().where('login', '=', login).executeTakeFirst();
    return row && { user: toUser(row), passwordHash: row.password_hash };
  }

  async anyPasswordSet(): Promise<boolean> {
    const row = await this.scope.db.selectFrom('users').select('id').where('password_hash', 'is not', null).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async findUserByIdentity(issuer: string, subject: string): Promise<User | undefined> {
    const row = await this.scope.db
      .selectFrom('user_identities')
      .innerJoin('users', 'users.id', 'user_identities.user_id')
      .select(USER_COLUMNS)
      .where('user_identities.issuer', '=', issuer)
      .where('user_identities.subject', '=', subject)
      .executeTakeFirst();
    return row && toUser(row);
  }

  async createUserWithIdentity(login: string, issuer: string, subject: string): Promise<User> {
    try {
      return await this.scope.atomically(async ({ db: tx }) => {
        const linked = await tx
          .selectFrom('user_identities')
          .select('user_id')
          .where('issuer', '=', issuer)
          .where('subject', '=', subject)
          .executeTakeFirst();
        if (linked) throw conflict('identity-exists', `the identity ${subject} at ${issuer} already has a user`);
        const taken = await tx.selectFrom('users').select('id').where('login', '=', login).executeTakeFirst();
        if (taken) throw conflict('user-exists', `a user named \`${login}\` already exists`);
        const at = now();
        const user = await tx.insertInto('users').values({ login, is_admin: 0, created_at: at }).returningAll().executeTakeFirstOrThrow();
        await tx.insertInto('user_identities').values({ issuer, subject, user_id: user.id, created_at: at }).execute();
        return toUser(user);
      });
    } catch (error) {
      // A concurrent first login of the same person, or of another with the same name.
      if (this.scope.rules.isUniqueViolation(error))
        throw conflict('user-exists', `a user named \`${login}\` or that identity already exists`);
      throw error;
    }
  }

  async findIdentityOfUser(userId: number): Promise<{ issuer: string; subject: string } | undefined> {
    return this.scope.db
      .selectFrom('user_identities')
      .select(['issuer', 'subject'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .executeTakeFirst();
  }

  async setDisabled(userId: number, disabled: boolean): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const result = await tx.db
        .updateTable('users')
        .set({ disabled_at: disabled ? now() : null })
        .where('id', '=', userId)
        .where('disabled_at', disabled ? 'is' : 'is not', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await new SqlChangeLog(tx).record('user', String(userId));
      return true;
    });
  }

  async isDisabled(userId: number): Promise<boolean> {
    const row = await this.scope.db.selectFrom('users').select('disabled_at').where('id', '=', userId).executeTakeFirst();
    return row?.disabled_at != null;
  }
}
