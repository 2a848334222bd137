// Group memberships: local ones (made with the CLI or the admin pages) and those an OpenID provider
// reports at sign-in (source `oidc`). Every change is recorded in the change log, so that every
// process drops the cached principals of that user.

import type { User } from './users.js';

export interface Groups {
  /** Local group membership; both return false when nothing changed. */
  addGroupMember(group: string, userId: number): Promise<boolean>;
  removeGroupMember(group: string, userId: number): Promise<boolean>;
  listGroupMembers(group: string): Promise<User[]>;
  /**
   * Makes the user's memberships from `source` (e.g. `oidc`) exactly `groups`; memberships from
   * other sources stay. Returns whether anything changed (and records a change if so).
   */
  replaceGroups(userId: number, source: string, groups: readonly string[]): Promise<boolean>;
}
