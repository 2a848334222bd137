// Whether any administrator can sign in, checked when `serve` starts on a registry that has users:
// a registry whose admins have no password, no linked OpenID identity (with OpenID configured) and
// no token that may sign in (unrevoked, unexpired, every scope, every crate) cannot be
// administered from the web pages, and `serve` says how to make such a way in.

import type { Catalog } from '../ports/catalog.js';
import type { TokenRecord, Tokens } from '../ports/tokens.js';

/** Nobody can sign in as an administrator; `admins` are the administrators there are (maybe none). */
export interface AdminLockout {
  admins: string[];
}

const maySignIn = (token: TokenRecord, now: number) =>
  token.revokedAt === null &&
  (token.expiresAt === null || Date.parse(token.expiresAt) > now) &&
  token.scopes === null &&
  token.cratePatterns === null;

/** undefined when some administrator can sign in, or when there are no users at all (the first start makes one). */
export async function findAdminLockout(
  repos: { catalog: Pick<Catalog, 'users'>; tokens: Pick<Tokens, 'listTokens'> },
  options: { oidcConfigured: boolean; now: () => number },
): Promise<AdminLockout | undefined> {
  const users = await repos.catalog.users();
  if (users.length === 0) return undefined;
  const admins = users.filter((u) => u.isAdmin);
  for (const admin of admins) {
    if (admin.hasPassword || (options.oidcConfigured && admin.identities.length > 0)) return undefined;
    if ((await repos.tokens.listTokens(admin.id)).some((t) => maySignIn(t, options.now()))) return undefined;
  }
  return { admins: admins.map((a) => a.login) };
}
