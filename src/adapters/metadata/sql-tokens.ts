// Tokens in SQL, stored by hash. A revocation is recorded in the change log in the same
// transaction, so that every process forgets the token at once.

import type { NewToken, TokenPrincipal, TokenRecord, Tokens } from '../../ports/tokens.js';
import { SqlChangeLog } from './sql-change-log.js';
import { fromJsonList, now, toJsonList, toToken } from './sql-rows.js';
import type { SqlScope } from './sql-scope.js';

export class SqlTokens implements Tokens {
  constructor(private readonly scope: SqlScope) {}

  async insertToken(token: NewToken): Promise<TokenRecord> {
    const row = await this.scope.db
      .insertInto('tokens')
      .values({
        user_id: token.userId,
        name: token.name,
        token_hash: token.hash,
        created_at: now(),
        expires_at: token.expiresAt,
        scopes: toJsonList(token.scopes ?? null),
        crate_patterns: toJsonList(token.cratePatterns ?? null),
        origin: token.origin ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toToken(row);
  }

  findPrincipalByTokenHash(hash: string): Promise<TokenPrincipal | undefined> {
    return this.findPrincipal('tokens.token_hash', hash);
  }

  findPrincipalByTokenId(id: number): Promise<TokenPrincipal | undefined> {
    return this.findPrincipal('tokens.id', id);
  }

  private async findPrincipal(column: 'tokens.token_hash' | 'tokens.id', value: string | number): Promise<TokenPrincipal | undefined> {
    const db = this.scope.db;
    const row = await db
      .selectFrom('tokens')
      .innerJoin('users', 'users.id', 'tokens.user_id')
      .select([
        'tokens.id as tokenId',
        'users.id as userId',
        'users.login',
        'users.is_admin',
        'tokens.expires_at',
        'tokens.scopes',
        'tokens.crate_patterns',
        'tokens.origin',
        'users.disabled_at',
      ])
      .where(column, '=', value)
      .where('tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) return undefined;
    const groups = await db
      .selectFrom('group_members')
      .select('group_name')
      .where('user_id', '=', row.userId)
      .orderBy('group_name')
      .execute();
    return {
      tokenId: row.tokenId,
      userId: row.userId,
      login: row.login,
      isAdmin: row.is_admin === 1,
      expiresAt: row.expires_at,
      scopes: fromJsonList(row.scopes),
      cratePatterns: fromJsonList(row.crate_patterns),
      groups: groups.map((g) => g.group_name),
      origin: row.origin,
      ...(row.disabled_at !== null ? { disabled: true } : {}),
    };
  }

  async listTokens(userId: number): Promise<TokenRecord[]> {
    const rows = await this.scope.db.selectFrom('tokens').selectAll().where('user_id', '=', userId).orderBy('id').execute();
    return rows.map(toToken);
  }

  async revokeToken(id: number): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const row = await tx.db
        .updateTable('tokens')
        .set({ revoked_at: now() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning('token_hash')
        .executeTakeFirst();
      if (!row) return false;
      await new SqlChangeLog(tx).record('token', row.token_hash);
      return true;
    });
  }

  async recordTokenUse(lastUse: ReadonlyMap<number, string>): Promise<void> {
    if (lastUse.size === 0) return;
    await this.scope.atomically(async (tx) => {
      for (const [id, at] of lastUse) {
        await tx.db.updateTable('tokens').set({ last_used_at: at }).where('id', '=', id).execute();
      }
    });
  }
}
