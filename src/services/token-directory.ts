// Every user's tokens at once, for the administrator at the server's shell: `cratekeeper token list
// --all`, and `token revoke` by the id or the name that list shows. A name may be shared (every CLI
// token is called `cli` unless named), so a name that matches several tokens is refused with the
// candidates listed, never guessed.

import { conflict, notFound } from '../domain/errors.js';
import type { Catalog } from '../ports/catalog.js';
import type { TokenRecord, Tokens } from '../ports/tokens.js';

export interface TokenListing {
  login: string;
  token: TokenRecord;
}

export class TokenDirectory {
  constructor(private readonly repos: { catalog: Pick<Catalog, 'users'>; tokens: Pick<Tokens, 'listTokens'> }) {}

  /** Every token of every user (revoked ones included), by user name, then id. */
  async all(): Promise<TokenListing[]> {
    const listings: TokenListing[] = [];
    for (const user of await this.repos.catalog.users()) {
      for (const token of await this.repos.tokens.listTokens(user.id)) listings.push({ login: user.login, token });
    }
    return listings;
  }

  /**
   * The one unrevoked token that `reference` names: its id (digits), else its name, among the
   * tokens of `login` when given. Refuses a name that several tokens carry.
   */
  async resolve(reference: string, login?: string): Promise<TokenListing> {
    const candidates = (await this.all()).filter((l) => l.token.revokedAt === null && (login === undefined || l.login === login));
    if (/^\d+$/.test(reference)) {
      const byId = candidates.find((l) => l.token.id === Number(reference));
      if (byId) return byId;
    }
    const byName = candidates.filter((l) => l.token.name === reference);
    const whose = login === undefined ? '' : ` of ${login}`;
    if (byName.length === 0) {
      throw notFound(
        'token-not-found',
        `no active token${whose} has the id or name \`${reference}\`; \`cratekeeper token list --all\` shows every token`,
      );
    }
    if (byName.length > 1) {
      const listed = byName.map((l) => `id ${l.token.id} (user ${l.login}, created ${l.token.createdAt})`).join(', ');
      throw conflict(
        'token-name-ambiguous',
        `${byName.length} active tokens${whose} are named \`${reference}\`: ${listed}; revoke one by its id, e.g. \`cratekeeper token revoke ${byName[0]!.token.id}\``,
      );
    }
    return byName[0]!;
  }
}
