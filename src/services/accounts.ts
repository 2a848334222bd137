// Users and their tokens: the operations behind `cratekeeper user` / `cratekeeper token` and the
// first-start bootstrap. Tokens are returned in clear exactly once, at creation.

import { invalid, notFound } from '../domain/errors.js';
import { generateToken, hashToken } from '../domain/token.js';
import type { MetadataStore, TokenRecord, User } from '../ports/metadata-store.js';

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

export class AccountService {
  constructor(private readonly store: MetadataStore) {}

  addUser(login: string, isAdmin: boolean): Promise<User> {
    return this.store.createUser(parseLogin(login), isAdmin);
  }

  async requireUser(login: string): Promise<User> {
    const user = await this.store.findUserByLogin(login);
    if (!user) throw notFound('user-not-found', `there is no user \`${login}\``);
    return user;
  }

  async createToken(login: string, name: string, expiresAt: Date | null = null): Promise<{ token: string; record: TokenRecord }> {
    const user = await this.requireUser(login);
    const token = generateToken();
    const record = await this.store.insertToken({
      userId: user.id,
      name,
      hash: hashToken(token),
      expiresAt: expiresAt?.toISOString() ?? null,
    });
    return { token, record };
  }

  async listTokens(login: string): Promise<TokenRecord[]> {
    return this.store.listTokens((await this.requireUser(login)).id);
  }

  async revokeToken(id: number): Promise<void> {
    if (!(await this.store.revokeToken(id))) throw notFound('token-not-found', `there is no active token with id ${id}`);
  }

  /** On an empty registry, creates the `admin` user and returns its first token; else undefined. */
  async bootstrapAdmin(): Promise<string | undefined> {
    if ((await this.store.countUsers()) > 0) return undefined;
    await this.addUser('admin', true);
    return (await this.createToken('admin', 'initial admin token')).token;
  }
}
