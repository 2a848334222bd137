// The rules shared by publish, yank, unyank and owner changes: the crate must be visible to the
// principal (else it does not exist, as far as they can tell), the token must allow the action on
// this crate, and the principal must be an owner (listed, or a member of a listed group), a crate
// admin by the access rules, or a global admin. Names are looked up as crate names compare:
// `Foo-bar`, `foo_bar` and `FOO-BAR` are one crate, as for publish and on crates.io.

import { isPlausibleCrateName, normalizeCrateName } from '../domain/crate-name.js';
import { forbidden, notFound } from '../domain/errors.js';
import type { TokenScope } from '../domain/token-scope.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import { assertTokenAllows } from '../auth/token-permissions.js';
import type { Crates } from '../ports/crates.js';
import type { MetadataRepositories } from '../ports/metadata-database.js';
import type { Owners } from '../ports/owners.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { User } from '../ports/users.js';

/** What the ownership checks read. */
export type OwnershipRepositories = Pick<MetadataRepositories, 'crates' | 'owners'>;

export interface CrateOwners {
  users: User[];
  groups: string[];
}

/** Whether the principal owns the crate, directly or through one of its groups. */
export function isOwner(owners: CrateOwners, principal: TokenPrincipal): boolean {
  return owners.users.some((o) => o.id === principal.userId) || owners.groups.some((g) => principal.groups.includes(g));
}

/** The crate's owners, or undefined when there is no such crate. */
export async function findOwners(owners: Owners, lowerName: string): Promise<CrateOwners | undefined> {
  const [users, groups] = await Promise.all([owners.listOwners(lowerName), owners.listOwnerGroups(lowerName)]);
  return users && groups ? { users, groups } : undefined;
}

/**
 * The stored name of a crate the principal may read, found in any spelling; not found otherwise.
 * A crate it may not read is looked up all the same, so that the time of the 404 does not tell
 * it from a crate that does not exist.
 */
export async function findVisibleCrate(
  crates: Crates,
  policy: AccessPolicy,
  principal: TokenPrincipal | null,
  name: string,
): Promise<string> {
  const stored = isPlausibleCrateName(name) ? await crates.findCrateName(normalizeCrateName(name)) : undefined;
  if (stored === undefined || !policy.mayRead(principal, name)) throw notFound('crate-not-found', `crate \`${name}\` does not exist`);
  return stored;
}

export interface VisibleCrate {
  /** The crate's name as published. */
  name: string;
  owners: CrateOwners;
}

export async function ownersOf(
  repos: OwnershipRepositories,
  policy: AccessPolicy,
  principal: TokenPrincipal | null,
  name: string,
): Promise<VisibleCrate> {
  const stored = await findVisibleCrate(repos.crates, policy, principal, name);
  const owners = await findOwners(repos.owners, stored.toLowerCase());
  if (!owners) throw notFound('crate-not-found', `crate \`${name}\` does not exist`);
  return { name: stored, owners };
}

/** The crate and its owners when the principal may do `scope` on it; throws otherwise. */
export async function requireOwner(
  repos: OwnershipRepositories,
  policy: AccessPolicy,
  principal: TokenPrincipal,
  name: string,
  scope: TokenScope,
): Promise<VisibleCrate> {
  const crate = await ownersOf(repos, policy, principal, name);
  assertTokenAllows(principal, scope, crate.name);
  if (!policy.isCrateAdmin(principal, crate.name) && !isOwner(crate.owners, principal)) {
    throw forbidden('not-an-owner', `you are not an owner of crate \`${crate.name}\``);
  }
  return crate;
}
