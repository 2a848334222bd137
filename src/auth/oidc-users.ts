// From a provider's identity to a cratekeeper user. Who may sign in: members of an authorized
// group or authorized users; with both lists empty, everyone at the provider. Users are keyed by
// the provider's `sub` (an e-mail address can change hands), created on their first sign-in with a
// stable login name for `cargo owner` (from `preferred_username` or `nickname`, made unique), and
// their groups from the groups claim are stored (source `oidc`) and refreshed at every sign-in.

import type { OidcConfig } from '../config/oidc-schema.js';
import { forbidden, RegistryError } from '../domain/errors.js';
import type { MetadataStore, User } from '../ports/metadata-store.js';
import type { OidcIdentity } from './oidc-client.js';

export const OIDC_GROUP_SOURCE = 'oidc';
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/;
const MAX_NAME_TRIES = 50;

const stringClaim = (claims: Record<string, unknown>, name: string): string | undefined =>
  typeof claims[name] === 'string' && (claims[name] as string) !== '' ? (claims[name] as string) : undefined;

/** The groups in the configured claim; names cratekeeper cannot store are left out. */
export function groupsOf(identity: OidcIdentity, claim: string): string[] {
  const value = identity.claims[claim];
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((g): g is string => typeof g === 'string' && GROUP_NAME.test(g)))].sort();
}

/** A login name from the provider's names: ASCII letters, digits, `.`, `_`, `-`; at most 60 chars. */
export function loginNameFrom(identity: OidcIdentity): string {
  const email = stringClaim(identity.claims, 'email');
  const candidates = [
    stringClaim(identity.claims, 'preferred_username'),
    stringClaim(identity.claims, 'nickname'),
    email?.split('@')[0],
  ];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const cleaned = candidate.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 60).replace(/[-.]+$/, '');
    if (cleaned !== '') return cleaned;
  }
  return 'user';
}

export class OidcUsers {
  private readonly authorizedGroups: Set<string>;
  private readonly authorizedUsers: Set<string>;

  constructor(
    private readonly store: MetadataStore,
    private readonly settings: OidcConfig,
  ) {
    this.authorizedGroups = new Set(settings.authorized_groups);
    this.authorizedUsers = new Set(settings.authorized_users);
  }

  /** Throws `forbidden`, saying why, when this identity may not sign in. */
  assertAuthorized(identity: OidcIdentity, groups: readonly string[]): void {
    if (this.authorizedGroups.size === 0 && this.authorizedUsers.size === 0) return;
    const names = ['preferred_username', 'nickname', 'email'].map((c) => stringClaim(identity.claims, c));
    if ([...names, identity.subject].some((n) => n !== undefined && this.authorizedUsers.has(n))) return;
    if (groups.some((g) => this.authorizedGroups.has(g))) return;
    const who = names[0] ?? names[1] ?? names[2] ?? identity.subject;
    const allowed = [...this.authorizedGroups].join(', ');
    throw forbidden(
      'oidc-not-authorized',
      `${who} may not sign in to this registry: ` +
        (allowed ? `not a member of any authorized group (${allowed}); ` : '') +
        `groups at the provider: ${groups.length > 0 ? groups.join(', ') : 'none'}` +
        (this.authorizedUsers.size > 0 ? '; not one of the authorized users either' : ''),
    );
  }

  /** The user for this identity, created on the first sign-in; its provider groups refreshed. */
  async signIn(identity: OidcIdentity): Promise<User> {
    const groups = groupsOf(identity, this.settings.groups_claim);
    this.assertAuthorized(identity, groups);
    const user = (await this.store.findUserByIdentity(identity.issuer, identity.subject)) ?? (await this.createUser(identity));
    await this.store.replaceGroups(user.id, OIDC_GROUP_SOURCE, groups);
    return user;
  }

  private async createUser(identity: OidcIdentity): Promise<User> {
    const base = loginNameFrom(identity);
    for (let i = 1; i <= MAX_NAME_TRIES; i++) {
      const login = i === 1 ? base : `${base}-${i}`;
      try {
        return await this.store.createUserWithIdentity(login, identity.issuer, identity.subject);
      } catch (error) {
        if (!(error instanceof RegistryError) || error.kind !== 'conflict') throw error;
        // The same person signing in twice at once: the other sign-in created the user.
        const existing = await this.store.findUserByIdentity(identity.issuer, identity.subject);
        if (existing) return existing;
      }
    }
    throw new RegistryError('conflict', 'login-names-exhausted', `no free login name like \`${base}\`; ask an administrator`);
  }
}
