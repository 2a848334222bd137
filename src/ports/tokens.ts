// API tokens, stored as hashes: issuing, listing, revoking (recorded in the change log, so that
// every process forgets the token at once), and the principal a token speaks for.

export interface TokenRecord {
  id: number;
  userId: number;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  /** null: every scope. */
  scopes: string[] | null;
  /** null: every crate. */
  cratePatterns: string[] | null;
  /** Where it came from: `login` (the /me page), `trusted-publishing ...`; null: made by hand. */
  origin: string | null;
}

/** Who an active (not revoked) token speaks for. Expiry is left to the caller to check. */
export interface TokenPrincipal {
  tokenId: number;
  userId: number;
  login: string;
  isAdmin: boolean;
  expiresAt: string | null;
  scopes: string[] | null;
  cratePatterns: string[] | null;
  groups: string[];
  /** The token's origin (TokenRecord.origin): browser sessions are tokens of origin `web-session`. */
  origin: string | null;
  /** The account is disabled: the token is refused, saying so (absent: enabled). */
  disabled?: boolean;
}

export interface NewToken {
  userId: number;
  name: string;
  hash: string;
  expiresAt: string | null;
  /** Absent or null: every scope. */
  scopes?: string[] | null;
  /** Absent or null: every crate. */
  cratePatterns?: string[] | null;
  /** Where the token came from (see TokenRecord.origin). */
  origin?: string | null;
}

export interface Tokens {
  insertToken(token: NewToken): Promise<TokenRecord>;
  findPrincipalByTokenHash(hash: string): Promise<TokenPrincipal | undefined>;
  /** The same, by the token's id (docs tickets name the token they were issued for). */
  findPrincipalByTokenId(id: number): Promise<TokenPrincipal | undefined>;
  listTokens(userId: number): Promise<TokenRecord[]>;
  /** Returns false when no active token has that id. */
  revokeToken(id: number): Promise<boolean>;
  recordTokenUse(lastUse: ReadonlyMap<number, string>): Promise<void>;
}
