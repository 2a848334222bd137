// Who owns a crate: users, and groups whose every member is an owner. Every change is recorded in
// the change log; a crate is never left without an owner.

import type { User } from './users.js';

export interface Owners {
  /** The crate's owning users by login, or undefined when there is no such crate. */
  listOwners(lowerName: string): Promise<User[] | undefined>;
  /** Groups that own the crate: each of their members is an owner. */
  listOwnerGroups(lowerName: string): Promise<string[] | undefined>;
  /** Owning twice is harmless; nothing happens when there is no such crate. */
  addOwners(lowerName: string, userIds: number[], groups?: string[]): Promise<void>;
  /** Throws `conflict` (and changes nothing) when no user or group would be left owning the crate. */
  removeOwners(lowerName: string, userIds: number[], groups?: string[]): Promise<void>;
}
