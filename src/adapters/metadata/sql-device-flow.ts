// Terminal sign-in in SQL (ports/device-flow.ts). Spending a device code and rotating a refresh
// token are conditional updates inside one transaction, so that two replicas given the same code
// or refresh token at once cannot both succeed. Revoking a session revokes its access tokens and
// records each in the change log, so every process forgets them at once.

import type { Selectable } from 'kysely';
import type {
  DeviceAuthorization,
  DeviceAuthorizationStatus,
  DeviceFlow,
  DeviceSession,
  NewAccessToken,
  NewDeviceAuthorization,
  RefreshTokenState,
  RotationOutcome,
} from '../../ports/device-flow.js';
import { SqlChangeLog } from './sql-change-log.js';
import type { Database } from './sql-schema.js';
import type { SqlScope } from './sql-scope.js';

function toAuthorization(row: Selectable<Database['device_authorizations']>): DeviceAuthorization {
  return {
    id: row.id,
    userCode: row.user_code,
    clientAddress: row.client_address,
    deviceName: row.device_name,
    scopes: JSON.parse(row.scopes) as string[],
    status: row.status as DeviceAuthorizationStatus,
    userId: row.user_id,
    providerRefreshToken: row.provider_refresh_token,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastPollAt: row.last_poll_at,
    intervalSeconds: Number(row.interval_seconds),
    consumedAt: row.consumed_at,
  };
}

function toSession(row: Selectable<Database['device_sessions']>): DeviceSession {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    clientAddress: row.client_address,
    scopes: JSON.parse(row.scopes) as string[],
    createdAt: row.created_at,
    lastRefreshAt: row.last_refresh_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    providerRefreshToken: row.provider_refresh_token,
  };
}

export class SqlDeviceFlow implements DeviceFlow {
  constructor(private readonly scope: SqlScope) {}

  async createAuthorization(a: NewDeviceAuthorization): Promise<DeviceAuthorization> {
    const row = await this.scope.db
      .insertInto('device_authorizations')
      .values({
        device_code_hash: a.deviceCodeHash,
        user_code: a.userCode,
        client_address: a.clientAddress,
        device_name: a.deviceName,
        scopes: JSON.stringify(a.scopes),
        status: 'pending',
        created_at: a.createdAt,
        expires_at: a.expiresAt,
        interval_seconds: a.intervalSeconds,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toAuthorization(row);
  }

  async findAuthorizationByUserCode(userCode: string): Promise<DeviceAuthorization | undefined> {
    const row = await this.scope.db.selectFrom('device_authorizations').selectAll().where('user_code', '=', userCode).executeTakeFirst();
    return row && toAuthorization(row);
  }

  async findAuthorizationByDeviceCodeHash(hash: string): Promise<DeviceAuthorization | undefined> {
    const row = await this.scope.db.selectFrom('device_authorizations').selectAll().where('device_code_hash', '=', hash).executeTakeFirst();
    return row && toAuthorization(row);
  }

  async decideAuthorization(
    id: number,
    decision: { status: 'approved' | 'denied'; userId: number; providerRefreshToken: string | null },
  ): Promise<boolean> {
    const result = await this.scope.db
      .updateTable('device_authorizations')
      .set({ status: decision.status, user_id: decision.userId, provider_refresh_token: decision.providerRefreshToken })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async recordPoll(id: number, at: string, intervalSeconds: number): Promise<void> {
    await this.scope.db
      .updateTable('device_authorizations')
      .set({ last_poll_at: at, interval_seconds: intervalSeconds })
      .where('id', '=', id)
      .execute();
  }

  async startSession(
    authorizationId: number,
    session: { userId: number; name: string; clientAddress: string; scopes: string[]; createdAt: string; expiresAt: string },
    access: NewAccessToken,
    refreshHash: string,
  ): Promise<DeviceSession | undefined> {
    return this.scope.atomically(async ({ db }) => {
      const spent = await db
        .updateTable('device_authorizations')
        .set({ consumed_at: session.createdAt })
        .where('id', '=', authorizationId)
        .where('status', '=', 'approved')
        .where('consumed_at', 'is', null)
        .returning('provider_refresh_token')
        .executeTakeFirst();
      if (!spent) return undefined;
      const row = await db
        .insertInto('device_sessions')
        .values({
          user_id: session.userId,
          name: session.name,
          client_address: session.clientAddress,
          scopes: JSON.stringify(session.scopes),
          created_at: session.createdAt,
          expires_at: session.expiresAt,
          // The approver's provider grant moves from the authorization to the session.
          provider_refresh_token: spent.provider_refresh_token,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await db.updateTable('device_authorizations').set({ provider_refresh_token: null }).where('id', '=', authorizationId).execute();
      await this.insertAccess(db, row.id, session.userId, session.scopes, access, session.createdAt);
      await db
        .insertInto('device_refresh_tokens')
        .values({ token_hash: refreshHash, session_id: row.id, created_at: session.createdAt })
        .execute();
      return toSession(row);
    });
  }

  private async insertAccess(
    db: SqlScope['db'],
    sessionId: number,
    userId: number,
    scopes: string[],
    access: NewAccessToken,
    at: string,
  ): Promise<void> {
    await db
      .insertInto('tokens')
      .values({
        user_id: userId,
        name: access.name,
        token_hash: access.hash,
        created_at: at,
        expires_at: access.expiresAt,
        scopes: JSON.stringify(scopes),
        crate_patterns: null,
        origin: 'device', // DEVICE_TOKEN_ORIGIN in services/device-flow.ts
        device_session_id: sessionId,
      })
      .execute();
  }

  async findRefreshToken(hash: string): Promise<RefreshTokenState | undefined> {
    const row = await this.scope.db
      .selectFrom('device_refresh_tokens')
      .innerJoin('device_sessions', 'device_sessions.id', 'device_refresh_tokens.session_id')
      .selectAll('device_sessions')
      .select('device_refresh_tokens.used_at')
      .where('device_refresh_tokens.token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    const { used_at, ...session } = row;
    return { session: toSession(session), usedAt: used_at };
  }

  async findSessionOfAccessToken(hash: string): Promise<DeviceSession | undefined> {
    const row = await this.scope.db
      .selectFrom('tokens')
      .innerJoin('device_sessions', 'device_sessions.id', 'tokens.device_session_id')
      .selectAll('device_sessions')
      .where('tokens.token_hash', '=', hash)
      .executeTakeFirst();
    return row && toSession(row);
  }

  async rotateRefreshToken(
    oldHash: string,
    newHash: string,
    access: NewAccessToken,
    update: { at: string; expiresAt: string; providerRefreshToken: string | null },
  ): Promise<RotationOutcome> {
    return this.scope.atomically(async (tx) => {
      const spent = await tx.db
        .updateTable('device_refresh_tokens')
        .set({ used_at: update.at })
        .where('token_hash', '=', oldHash)
        .where('used_at', 'is', null)
        .returning('session_id')
        .executeTakeFirst();
      if (!spent) return 'replayed';
      const session = await tx.db
        .updateTable('device_sessions')
        .set({ last_refresh_at: update.at, expires_at: update.expiresAt, provider_refresh_token: update.providerRefreshToken })
        .where('id', '=', spent.session_id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await revokeAccessTokens(tx, session.id, update.at);
      await this.insertAccess(tx.db, session.id, session.user_id, JSON.parse(session.scopes) as string[], access, update.at);
      await tx.db
        .insertInto('device_refresh_tokens')
        .values({ token_hash: newHash, session_id: session.id, created_at: update.at })
        .execute();
      return 'rotated';
    });
  }

  async revokeSession(id: number, at: string, reason: string): Promise<boolean> {
    return this.scope.atomically(async (tx) => {
      const row = await tx.db
        .updateTable('device_sessions')
        .set({ revoked_at: at, revoked_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!row) return false;
      await revokeAccessTokens(tx, id, at);
      return true;
    });
  }

  async revokeUserSessions(userId: number, at: string, reason: string): Promise<number> {
    return this.scope.atomically(async (tx) => {
      const rows = await tx.db
        .updateTable('device_sessions')
        .set({ revoked_at: at, revoked_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .returning('id')
        .execute();
      for (const row of rows) await revokeAccessTokens(tx, row.id, at);
      return rows.length;
    });
  }

  async listSessions(userId: number): Promise<DeviceSession[]> {
    const rows = await this.scope.db
      .selectFrom('device_sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('id')
      .execute();
    return rows.map(toSession);
  }

  async findSession(id: number): Promise<DeviceSession | undefined> {
    const row = await this.scope.db.selectFrom('device_sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSession(row);
  }

  async storeProviderGrant(sessionTokenId: number, userId: number, refreshToken: string, at: string): Promise<void> {
    await this.scope.db
      .insertInto('provider_grants')
      .values({ session_token_id: sessionTokenId, user_id: userId, refresh_token: refreshToken, created_at: at })
      .onConflict((oc) => oc.column('session_token_id').doUpdateSet({ refresh_token: refreshToken, created_at: at }))
      .execute();
  }

  async takeProviderGrant(sessionTokenId: number): Promise<string | undefined> {
    const row = await this.scope.db
      .deleteFrom('provider_grants')
      .where('session_token_id', '=', sessionTokenId)
      .returning('refresh_token')
      .executeTakeFirst();
    return row?.refresh_token;
  }

  async hasProviderGrant(sessionTokenId: number): Promise<boolean> {
    const row = await this.scope.db
      .selectFrom('provider_grants')
      .select('session_token_id')
      .where('session_token_id', '=', sessionTokenId)
      .executeTakeFirst();
    return row !== undefined;
  }
}

/** Revokes a session's active access tokens, each recorded in the change log. */
async function revokeAccessTokens(tx: SqlScope, sessionId: number, at: string): Promise<void> {
  const revoked = await tx.db
    .updateTable('tokens')
    .set({ revoked_at: at })
    .where('device_session_id', '=', sessionId)
    .where('revoked_at', 'is', null)
    .returning('token_hash')
    .execute();
  const log = new SqlChangeLog(tx);
  for (const row of revoked) await log.record('token', row.token_hash);
}
