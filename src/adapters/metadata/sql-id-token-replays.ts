// Used ID tokens in SQL, keyed by issuer and `jti`; a second insert of the same pair is a replay.

import type { IdTokenReplays } from '../../ports/id-token-replays.js';
import type { SqlScope } from './sql-scope.js';

/** How long past its expiry a used ID token is still remembered. */
const FORGET_AFTER_MS = 3_600_000;

export class SqlIdTokenReplays implements IdTokenReplays {
  constructor(private readonly scope: SqlScope) {}

  async recordIdTokenUse(issuer: string, jti: string, expiresAt: string): Promise<boolean> {
    const db = this.scope.db;
    // Forget what has expired: an expired ID token is refused before its jti is looked at.
    await db
      .deleteFrom('used_id_tokens')
      .where('expires_at', '<', new Date(Date.now() - FORGET_AFTER_MS).toISOString())
      .execute();
    const result = await db
      .insertInto('used_id_tokens')
      .values({ issuer, jti, expires_at: expiresAt })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }
}
