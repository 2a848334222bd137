// What sign-in and trusted publishing need to hand out and take back tokens: creating a token for
// a user and revoking one. AccountService (services/accounts.ts) provides it; auth/ names only
// this interface, so it does not import the services built on top of it.

import type { TokenRecord } from '../ports/tokens.js';

export interface TokenLimits {
  scopes?: string[];
  cratePatterns?: string[];
  expiresAt?: Date | null;
  /** Where the token comes from (TokenRecord.origin). */
  origin?: string;
  /** Made by hand (API, page, CLI): `auth.max_token_lifetime` applies. */
  byHand?: boolean;
}

export interface TokenIssuer {
  /** Creates a token; without scopes or crate patterns it may do all its user may. */
  createToken(login: string, name: string, limits?: TokenLimits): Promise<{ token: string; record: TokenRecord }>;
  revokeToken(id: number): Promise<void>;
}
