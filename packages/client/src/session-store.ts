// A signed-in device's tokens for one registry, and where they are kept. `cratekeeper login` (the
// OAuth device flow) writes a session; the credential provider reads it, refreshes it and hands cargo
// the access token only. The refresh token never leaves this machine's store: the OS keyring where one
// is usable (session-keyring-store.ts), else a file only the user can read (session-file-store.ts).
// Sessions are keyed by the registry's index URL without cargo's `sparse+` prefix.

import { homedir } from 'node:os';
import { join } from 'node:path';

export interface StoredSession {
  access_token: string;
  /** Unix seconds at which the server stops accepting the access token. */
  expires_at: number;
  refresh_token: string;
  /** Unix seconds at which the access token was issued, to scale the refresh margin to its lifetime. */
  issued_at?: number;
}

export interface SessionStore {
  /** Where the sessions live, for messages. */
  readonly description: string;
  read(indexUrl: string): Promise<StoredSession | undefined>;
  write(indexUrl: string, session: StoredSession): Promise<void>;
  /** Returns whether there was a session to delete. */
  delete(indexUrl: string): Promise<boolean>;
}

export class SessionStoreError extends Error {
  readonly code = 'SESSION_STORE';
}

/** The key of a registry's session: its index URL without `sparse+`, in URL-normal form. */
export function sessionKey(indexUrl: string): string {
  const raw = indexUrl.replace(/^sparse\+/, '');
  try {
    return new URL(raw).href;
  } catch {
    throw new SessionStoreError(`\`${indexUrl}\` is not an index URL (expected e.g. sparse+https://registry.example.com/index/)`);
  }
}

/** `${XDG_CONFIG_HOME:-~/.config}/cratekeeper`: the folder of sessions.json and the refresh lock. */
export function clientConfigDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config'), 'cratekeeper');
}

/** Whether a stored value has the shape of a session (files and keyrings may hold anything). */
export function isStoredSession(value: unknown): value is StoredSession {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.access_token === 'string' &&
    typeof v.refresh_token === 'string' &&
    typeof v.expires_at === 'number' &&
    (v.issued_at === undefined || typeof v.issued_at === 'number')
  );
}
