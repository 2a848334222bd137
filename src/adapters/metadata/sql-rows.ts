// Rows to port types, shared by the SQL repositories: booleans are stored as 0/1, lists as JSON
// text, timestamps as ISO-8601 text (sql-schema.ts).

import type { Selectable } from 'kysely';
import type { IndexEntry } from '../../domain/index-line.js';
import type { StoredVersion } from '../../ports/crates.js';
import type { TokenRecord } from '../../ports/tokens.js';
import type { User } from '../../ports/users.js';
import type { Database } from './sql-schema.js';

export const now = () => new Date().toISOString();

export function toUser(row: { id: number; login: string; is_admin: number; created_at: string }): User {
  return { id: row.id, login: row.login, isAdmin: row.is_admin === 1, createdAt: row.created_at };
}

/** The columns of a user, for joins that end in `toUser`. */
export const USER_COLUMNS = ['users.id', 'users.login', 'users.is_admin', 'users.created_at'] as const;

export const fromJsonList = (text: string | null): string[] | null => (text === null ? null : (JSON.parse(text) as string[]));
export const toJsonList = (list: string[] | null): string | null => (list === null ? null : JSON.stringify(list));

export function toToken(row: Selectable<Database['tokens']>): TokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    scopes: fromJsonList(row.scopes),
    cratePatterns: fromJsonList(row.crate_patterns),
    origin: row.origin,
  };
}

export function toStoredVersion(row: { entry_json: string; yanked: number }): StoredVersion {
  return { entry: JSON.parse(row.entry_json) as IndexEntry, yanked: row.yanked === 1 };
}
