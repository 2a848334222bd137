// The rule shared by yank, unyank and owner changes: only an owner of the crate, or an admin.

import { isPlausibleCrateName } from '../domain/crate-name.js';
import { forbidden, notFound } from '../domain/errors.js';
import type { MetadataStore, TokenPrincipal, User } from '../ports/metadata-store.js';

export async function ownersOf(store: MetadataStore, name: string): Promise<User[]> {
  const owners = isPlausibleCrateName(name) ? await store.listOwners(name.toLowerCase()) : undefined;
  if (!owners) throw notFound('crate-not-found', `crate \`${name}\` does not exist`);
  return owners;
}

/** Returns the crate's owners when the principal may manage the crate; throws otherwise. */
export async function requireOwner(
  store: MetadataStore,
  name: string,
  principal: TokenPrincipal,
): Promise<User[]> {
  const owners = await ownersOf(store, name);
  if (!principal.isAdmin && !owners.some((o) => o.id === principal.userId)) {
    throw forbidden('not-an-owner', `you are not an owner of crate \`${name}\``);
  }
  return owners;
}
