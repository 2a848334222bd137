// Users and their tokens: the operations behind `cratekeeper user` / `cratekeeper token` and the
// first-start bootstrap. Tokens are returned in clear exactly once, at creation.

import { invalid, notFound } from '../domain/errors.js';
import { parseCratePattern } from '../domain/crate-pattern.js';
import { generateToken, hashToken } from '../domain/token.js';
import { parseTokenScopes } from '../domain/token-scope.js';
import type { TokenIssuer, TokenLimits } from '../auth/token-issuer.js';
import type { MetadataRepositories } from '../ports/metadata-database.js';
import type { TokenRecord } from '../ports/tokens.js';
import type { User } from '../ports/users.js';

const LOGIN_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function parseLogin(login: string): string {
  if (!LOGIN_PATTERN.test(login)) {
    throw invalid(
      'invalid-login',
      `\`${login.slice(0, 80)}\` is not a valid user name: 1 to 64 ASCII letters, digits, \`.\`, \`_\` or \`-\`, starting with a letter or digit`,
    );
  }
  return login;
}

export function parseGroupName(group: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_./-]{0,127}$/.test(group)) {
    throw invalid('invalid-group', `\`${group.slice(0, 80)}\` is not a valid group name: letters, digits, \`.\`, \`_\`, \`/\` or \`-\``);
  }
  return group;
}

/** The origin of the token the /me page hands out: one per user. */
export const LOGIN_TOKEN_ORIGIN = 'login';

export class AccountService implements TokenIssuer {
  constructor(
    private readonly repos: Pick<MetadataRepositories, 'users' | 'tokens' | 'groups'>,
    /** Applies this process's own writes to its caches at once (a revocation must not wait). */
    private readonly applyChanges: () => Promise<void> = async () => {},
    /** `auth.max_token_lifetime` in ms: the longest expiry of a token made by hand; undefined: no cap. */
    private readonly maxTokenLifetimeMs?: number,
  ) {}

  /** The cap on tokens made by hand, if any (the tokens page offers expiries up to it). */
  get tokenLifetimeCapMs(): number | undefined {
    return this.maxTokenLifetimeMs;
  }

  addUser(login: string, isAdmin: boolean): Promise<User> {
    return this.repos.users.createUser(parseLogin(login), isAdmin);
  }

  async requireUser(login: string): Promise<User> {
    const user = await this.repos.users.findUserByLogin(login);
    if (!user) throw notFound('user-not-found', `there is no user \`${login}\``);
    return user;
  }

  /** Creates a token; without scopes or crate patterns it may do all its user may. */
  async createToken(login: string, name: string, limits: TokenLimits = {}): Promise<{ token: string; record: TokenRecord }> {
    const user = await this.requireUser(login);
    if (name.trim() === '' || name.length > 100) throw invalid('invalid-token-name', 'a token name must have 1 to 100 characters');
    const scopes = limits.scopes === undefined ? null : parseTokenScopes(limits.scopes);
    const cratePatterns = limits.cratePatterns === undefined ? null : limits.cratePatterns.map((p) => parseCratePattern(p).text);
    if (cratePatterns?.length === 0)
      throw invalid('invalid-crate-pattern', 'give at least one crate pattern, or none to allow every crate');
    const expiresAt = limits.expiresAt ?? null;
    if (expiresAt !== null && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
      throw invalid('invalid-expiry', 'a token must expire in the future');
    }
    const cap = this.maxTokenLifetimeMs;
    if (limits.byHand && cap !== undefined && (expiresAt === null || expiresAt.getTime() > Date.now() + cap + 60_000)) {
      throw invalid(
        'token-lifetime-capped',
        `this registry caps the tokens people make at ${describeLifetime(cap)} (auth.max_token_lifetime); ` +
          `give an expiry of at most ${describeLifetime(cap)}, or use \`cratekeeper login\` for short-lived tokens that renew themselves`,
      );
    }
    const token = generateToken();
    const record = await this.repos.tokens.insertToken({
      userId: user.id,
      name,
      hash: hashToken(token),
      expiresAt: expiresAt?.toISOString() ?? null,
      scopes,
      cratePatterns,
      origin: limits.origin ?? null,
    });
    return { token, record };
  }

  /**
   * The user's login token (the one the /me page shows). When one is active and `replace` is
   * false, returns it without its secret (only its hash is stored); else revokes any active one
   * and creates a new one.
   */
  async loginToken(
    login: string,
    replace: boolean,
  ): Promise<{ token: string; record: TokenRecord; replaced: number } | { existing: TokenRecord }> {
    const active = (await this.listTokens(login)).filter(
      (t) => t.origin === LOGIN_TOKEN_ORIGIN && t.revokedAt === null && (t.expiresAt === null || Date.parse(t.expiresAt) > Date.now()),
    );
    if (!replace && active.length > 0) return { existing: active[active.length - 1]! };
    let replaced = 0;
    for (const t of active) if (await this.repos.tokens.revokeToken(t.id)) replaced++;
    if (replaced > 0) await this.applyChanges();
    // Under a cap, the /me token lives as long as the cap allows.
    const cap = this.maxTokenLifetimeMs;
    const created = await this.createToken(login, 'web login (/me)', {
      origin: LOGIN_TOKEN_ORIGIN,
      ...(cap !== undefined ? { expiresAt: new Date(Date.now() + cap) } : {}),
    });
    return { ...created, replaced };
  }

  async setPassword(login: string, passwordHash: string | null): Promise<void> {
    await this.repos.users.setPasswordHash((await this.requireUser(login)).id, passwordHash);
  }

  async listTokens(login: string): Promise<TokenRecord[]> {
    return this.repos.tokens.listTokens((await this.requireUser(login)).id);
  }

  /** Revokes a token; with `owner`, only one of that user's. */
  async revokeToken(id: number, owner?: User): Promise<void> {
    const missing = notFound('token-not-found', `there is no active token with id ${id}`);
    if (owner && !(await this.repos.tokens.listTokens(owner.id)).some((t) => t.id === id)) throw missing;
    if (!(await this.repos.tokens.revokeToken(id))) throw missing;
    await this.applyChanges();
  }

  async addGroupMember(group: string, login: string): Promise<boolean> {
    const changed = await this.repos.groups.addGroupMember(parseGroupName(group), (await this.requireUser(login)).id);
    await this.applyChanges();
    return changed;
  }

  async removeGroupMember(group: string, login: string): Promise<boolean> {
    const changed = await this.repos.groups.removeGroupMember(parseGroupName(group), (await this.requireUser(login)).id);
    await this.applyChanges();
    return changed;
  }

  listGroupMembers(group: string): Promise<User[]> {
    return this.repos.groups.listGroupMembers(parseGroupName(group));
  }

  /** On an empty registry, creates the `admin` user and returns its first token; else undefined. */
  async bootstrapAdmin(): Promise<string | undefined> {
    if ((await this.repos.users.countUsers()) > 0) return undefined;
    await this.addUser('admin', true);
    return (await this.createToken('admin', 'initial admin token')).token;
  }
}

/** A lifetime as people say it: "30 days", "12 hours", "45 minutes". */
export function describeLifetime(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000} day${ms === 86_400_000 ? '' : 's'}`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} hour${ms === 3_600_000 ? '' : 's'}`;
  return `${Math.round(ms / 60_000)} minutes`;
}
