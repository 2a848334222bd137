// From a provider's identity to a cratekeeper user. Who may sign in: members of an authorized
// group or authorized users; with both lists empty, everyone at the provider. Authorized users are
// matched by what the provider vouches for: the `sub` (stable, unique at the issuer) or an e-mail
// address the provider says it verified (`email_verified`). Never by `preferred_username` or
// `nickname`: at many providers people choose those freely (and may take a name someone else gave
// up), and never by an unverified e-mail, which anyone can type in. Users are keyed by `sub` (an
// e-mail address can change hands), created on their first sign-in with a stable login name for
// `cargo owner` (from `preferred_username` or `nickname`, else a verified e-mail's local part, made
// unique), and their groups from the groups claim are stored (source `oidc`) and refreshed at every
// sign-in.

import type { OidcConfig } from '../config/oidc-schema.js';
import { forbidden, RegistryError } from '../domain/errors.js';
import type { MetadataRepositories } from '../ports/metadata-database.js';
import type { User } from '../ports/users.js';
import type { OidcIdentity } from './oidc-client.js';

export const OIDC_GROUP_SOURCE = 'oidc';
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/;
const MAX_NAME_TRIES = 50;

const stringClaim = (claims: Record<string, unknown>, name: string): string | undefined =>
  typeof claims[name] === 'string' && (claims[name] as string) !== '' ? (claims[name] as string) : undefined;

/** The e-mail address, lower-cased, when the provider says it verified it; else undefined. */
export function verifiedEmail(claims: Record<string, unknown>): string | undefined {
  const email = stringClaim(claims, 'email');
  // Some providers (AWS Cognito, for one) send the flag as a string.
  const verified = claims.email_verified === true || claims.email_verified === 'true';
  return email !== undefined && verified ? email.toLowerCase() : undefined;
}

/** The groups in the configured claim; names cratekeeper cannot store are left out. */
export function groupsOf(identity: OidcIdentity, claim: string): string[] {
  const value = identity.claims[claim];
  if (!Array.isArray(value)) return [];
  return [...new Set(value.filter((g): g is string => typeof g === 'string' && GROUP_NAME.test(g)))].sort();
}

/** A login name from the provider's names: ASCII letters, digits, `.`, `_`, `-`; at most 60 chars. */
export function loginNameFrom(identity: OidcIdentity): string {
  const email = verifiedEmail(identity.claims);
  const candidates = [stringClaim(identity.claims, 'preferred_username'), stringClaim(identity.claims, 'nickname'), email?.split('@')[0]];
  for (const candidate of candidates) {
    if (candidate === undefined) continue;
    const cleaned = candidate
      .replace(/[^A-Za-z0-9_.-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 60)
      .replace(/[-.]+$/, '');
    if (cleaned !== '') return cleaned;
  }
  return 'user';
}

export class OidcUsers {
  private readonly authorizedGroups: Set<string>;
  /** authorized_users as given, matched against `sub`. */
  private readonly authorizedSubjects: Set<string>;
  /** authorized_users that are e-mail addresses, lower-cased, matched against a verified e-mail. */
  private readonly authorizedEmails: Set<string>;

  constructor(
    private readonly repos: Pick<MetadataRepositories, 'users' | 'groups'>,
    private readonly settings: OidcConfig,
  ) {
    this.authorizedGroups = new Set(settings.authorized_groups);
    this.authorizedSubjects = new Set(settings.authorized_users);
    this.authorizedEmails = new Set(settings.authorized_users.filter((u) => u.includes('@')).map((u) => u.toLowerCase()));
  }

  /** Throws `forbidden`, saying why, when this identity may not sign in. */
  assertAuthorized(identity: OidcIdentity, groups: readonly string[]): void {
    if (this.authorizedGroups.size === 0 && this.authorizedSubjects.size === 0) return;
    const email = verifiedEmail(identity.claims);
    if (this.authorizedSubjects.has(identity.subject)) return;
    if (email !== undefined && this.authorizedEmails.has(email)) return;
    if (groups.some((g) => this.authorizedGroups.has(g))) return;
    const claims = identity.claims;
    const who =
      stringClaim(claims, 'preferred_username') ?? stringClaim(claims, 'nickname') ?? stringClaim(claims, 'email') ?? identity.subject;
    const allowed = [...this.authorizedGroups].join(', ');
    const sentEmail = stringClaim(claims, 'email');
    const asUser =
      `not one of the authorized users either (matched by sub, here ${identity.subject}` +
      (sentEmail === undefined
        ? ''
        : email === undefined
          ? `, or by a verified e-mail: the provider did not verify ${sentEmail}`
          : `, or by a verified e-mail, here ${email}`) +
      ')';
    throw forbidden(
      'oidc-not-authorized',
      `${who} may not sign in to this registry: ` +
        (allowed ? `not a member of any authorized group (${allowed}); ` : '') +
        `groups at the provider: ${groups.length > 0 ? groups.join(', ') : 'none'}` +
        (this.authorizedSubjects.size > 0 ? `; ${asUser}` : ''),
    );
  }

  /** The user for this identity, created on the first sign-in; its provider groups refreshed. */
  async signIn(identity: OidcIdentity): Promise<User> {
    const groups = groupsOf(identity, this.settings.groups_claim);
    this.assertAuthorized(identity, groups);
    const user = (await this.repos.users.findUserByIdentity(identity.issuer, identity.subject)) ?? (await this.createUser(identity));
    await this.repos.groups.replaceGroups(user.id, OIDC_GROUP_SOURCE, groups);
    return user;
  }

  private async createUser(identity: OidcIdentity): Promise<User> {
    const base = loginNameFrom(identity);
    for (let i = 1; i <= MAX_NAME_TRIES; i++) {
      const login = i === 1 ? base : `${base}-${i}`;
      try {
        return await this.repos.users.createUserWithIdentity(login, identity.issuer, identity.subject);
      } catch (error) {
        if (!(error instanceof RegistryError) || error.kind !== 'conflict') throw error;
        // The same person signing in twice at once: the other sign-in created the user.
        const existing = await this.repos.users.findUserByIdentity(identity.issuer, identity.subject);
        if (existing) return existing;
      }
    }
    throw new RegistryError('conflict', 'login-names-exhausted', `no free login name like \`${base}\`; ask an administrator`);
  }
}
