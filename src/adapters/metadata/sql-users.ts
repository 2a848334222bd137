// Users in SQL: accounts, password hashes and links to OpenID provider identities.

import { conflict } from '../../domain/errors.js';
import type { User, Users } from '../../ports/users.js';
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
}
