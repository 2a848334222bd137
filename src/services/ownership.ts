// The rules shared by yank, unyank and owner changes: the crate must be visible to the principal
// (else it does not exist, as far as they can tell), the token must allow the action on this
// crate, and the principal must be an owner, a crate admin by the access rules, or a global admin.

import { isPlausibleCrateName } from '../domain/crate-name.js';
import { forbidden, notFound } from '../domain/errors.js';
import type { TokenScope } from '../domain/token-scope.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import { assertTokenAllows } from '../auth/token-permissions.js';
import type { MetadataStore, TokenPrincipal, User } from '../ports/metadata-store.js';

export async function ownersOf(
  store: MetadataStore,
  policy: AccessPolicy,
  principal: TokenPrincipal | null,
  name: string,
): Promise<User[]> {
  const visible = isPlausibleCrateName(name) && policy.mayRead(principal, name);
  const owners = visible ? await store.listOwners(name.toLowerCase()) : undefined;
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
): Promise<User[]> {
  const owners = await ownersOf(store, policy, principal, name);
  assertTokenAllows(principal, scope, name);
  if (!policy.isCrateAdmin(principal, name) && !owners.some((o) => o.id === principal.userId)) {
    throw forbidden('not-an-owner', `you are not an owner of crate \`${name}\``);
  }
  return owners;
}
