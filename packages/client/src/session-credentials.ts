// The credential provider's answer for a registry with a stored session: the access token, renewed
// with the refresh token shortly before it expires, under the refresh lock (refresh-lock.ts) so that
// concurrent cargo processes spend a refresh token once. A refresh the server refuses (the account
// is disabled, the identity provider no longer puts the user in an authorized group, the device was
// signed out) deletes the dead session and ends in SessionRefusedError with the server's reason and
// the way back; a server that cannot be reached leaves the session alone.
//
// Timing, for the usual 8-hour token: refresh when less than 5 minutes are left, and let cargo cache
// the token until 1 minute before it expires. Short-lived tokens scale both margins down (half and a
// quarter of the lifetime), so that a token is always used for a while before it is renewed.

import { join } from 'node:path';
import { discoverAuthorizationServer, OAuthError, refreshTokens, type Fetch, type TokenResponse } from './oauth-client.js';
import { withRefreshLock, type RefreshLockOptions } from './refresh-lock.js';
import { clientConfigDir, type SessionStore, type StoredSession } from './session-store.js';

const REFRESH_MARGIN = 5 * 60;
const CACHE_MARGIN = 60;

export class SessionRefusedError extends Error {
  readonly code = 'SESSION_REFUSED';
}

export class SessionRefreshError extends Error {
  readonly code = 'SESSION_REFRESH';
}

export interface SessionContext {
  store: SessionStore;
  /** The refresh lock file. */
  lockPath: string;
  /** Unix seconds. */
  now: () => number;
  fetch?: Fetch;
  lock?: RefreshLockOptions;
}

export function sessionContext(store: SessionStore, env: NodeJS.ProcessEnv): SessionContext {
  return { store, lockPath: join(clientConfigDir(env), 'sessions.lock'), now: () => Math.floor(Date.now() / 1000) };
}

export interface SessionToken {
  token: string;
  /** Unix seconds until which cargo may reuse the token. */
  cacheUntil: number;
}

function lifetime(session: StoredSession): number {
  return session.issued_at !== undefined ? Math.max(0, session.expires_at - session.issued_at) : Number.POSITIVE_INFINITY;
}

export function needsRefresh(session: StoredSession, now: number): boolean {
  return now >= session.expires_at - Math.min(REFRESH_MARGIN, lifetime(session) / 2);
}

export function cacheUntil(session: StoredSession): number {
  return Math.floor(session.expires_at - Math.min(CACHE_MARGIN, lifetime(session) / 4));
}

/** A token endpoint's answer as stored. */
export function sessionFromTokens(tokens: TokenResponse, now: number): StoredSession {
  return { access_token: tokens.access_token, refresh_token: tokens.refresh_token, expires_at: now + tokens.expires_in, issued_at: now };
}

const answer = (session: StoredSession): SessionToken => ({ token: session.access_token, cacheUntil: cacheUntil(session) });

/**
 * The access token for the registry at `key` (see sessionKey), refreshed when due; undefined when
 * there is no session. `signInHint` is the command that starts a new session.
 */
export async function sessionToken(key: string, context: SessionContext, signInHint: string): Promise<SessionToken | undefined> {
  const session = await context.store.read(key);
  if (session === undefined) return undefined;
  if (!needsRefresh(session, context.now())) return answer(session);
  return withRefreshLock(
    context.lockPath,
    async () => {
      // Another process may have refreshed (or signed out) while this one waited for the lock.
      const current = await context.store.read(key);
      if (current === undefined) return undefined;
      if (!needsRefresh(current, context.now())) return answer(current);
      let tokens: TokenResponse;
      try {
        const server = await discoverAuthorizationServer(key, context.fetch);
        if (server === undefined) throw new SessionRefreshError(`${new URL(key).origin} no longer offers terminal sign-in`);
        tokens = await refreshTokens(server, current.refresh_token, context.fetch);
      } catch (error) {
        if (error instanceof OAuthError && error.error === 'invalid_grant') {
          await context.store.delete(key);
          throw new SessionRefusedError(
            `the registry refused to renew your session: ${error.description ?? 'the refresh token is no longer valid'}. ` +
              `Sign in again with \`${signInHint}\``,
          );
        }
        // Not a refusal: keep the session, and use the token while it still works.
        if (context.now() < current.expires_at) return answer(current);
        const reason = error instanceof Error ? error.message : String(error);
        throw new SessionRefreshError(`could not renew the session for ${key}: ${reason}`);
      }
      const renewed = sessionFromTokens(tokens, context.now());
      await context.store.write(key, renewed);
      return answer(renewed);
    },
    context.lock,
  );
}
