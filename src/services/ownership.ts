// The rules shared by publish, yank, unyank and owner changes: the crate must be visible to the
// principal (else it does not exist, as far as they can tell), the token must allow the action on
// this crate, and the principal must be an owner (listed, or a member of a listed group), a crate
// admin by the access rules, or a global admin.

import { isPlausibleCrateName } from '../domain/crate-name.js';
import { forbidden, notFound } from '../domain/errors.js';
import type { TokenScope } from '../domain/token-scope.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import { assertTokenAllows } from '../auth/token-permissions.js';
import type { MetadataStore, TokenPrincipal, User } from '../ports/metadata-store.js';

export interface CrateOwners {
  users: User[];
  groups: string[];
}

/** Whether the principal owns the crate, directly or through one of its groups. */
export function isOwner(owners: CrateOwners, principal: TokenPrincipal): boolean {
  return owners.users.some((o) => o.id === principal.userId) || owners.groups.some((g) => principal.groups.includes(g));
}

/** The crate's owners, or undefined when there is no such crate. */
export async function findOwners(store: MetadataStore, lowerName: string): Promise<CrateOwners | undefined> {
  const [users, groups] = await Promise.all([store.listOwners(lowerName), store.listOwnerGroups(lowerName)]);
  return users && groups ? { users, groups } : undefined;
}

export async function ownersOf(
  store: MetadataStore,
  policy: AccessPolicy,
  principal: TokenPrincipal | null,
  name: string,
): Promise<CrateOwners> {
  const visible = isPlausibleCrateName(name) && policy.mayRead(principal, name);
  const owners = visible ? await findOwners(store, name.toLowerCase()) : undefined;
  if (!owners) throw notFound('crate-not-found', `crate \`${name}\` does not exist`);
  return owners;
}

/** Returns the crate's owners when the principal may do `scope` on the crate; throws otherwise. */
export async function requireOwner(
  store: MetadataStore,
  policy: AccessPolicy,
  principal: TokenPrincipal,
  name: string,
  scope: TokenScope,
): Promise<CrateOwners> {
  const owners = await ownersOf(store, policy, principal, name);
  assertTokenAllows(principal, scope, name);
  if (!policy.isCrateAdmin(principal, name) && !isOwner(owners, principal)) {
    throw forbidden('not-an-owner', `you are not an owner of crate \`${name}\``);
  }
  return owners;
}
