// Users and how they prove who they are: local accounts, their password hashes, and the identities
// at OpenID providers linked to them. Group memberships are groups.ts's; tokens, tokens.ts's.

export interface User {
  id: number;
  login: string;
  isAdmin: boolean;
  createdAt: string;
}

export interface Users {
  /** Throws `conflict` with code `user-exists` when the login is taken. */
  createUser(login: string, isAdmin: boolean): Promise<User>;
  findUserByLogin(login: string): Promise<User | undefined>;
  findUserById(id: number): Promise<User | undefined>;
  countUsers(): Promise<number>;

  /** Local passwords (argon2 hashes, null: none). */
  setPasswordHash(userId: number, hash: string | null): Promise<void>;
  findPasswordHash(login: string): Promise<{ user: User; passwordHash: string | null } | undefined>;
  /** Whether any local user has a password (the /me page then offers a sign-in form). */
  anyPasswordSet(): Promise<boolean>;

  /** The user linked to an identity at an OpenID provider (its `sub`). */
  findUserByIdentity(issuer: string, subject: string): Promise<User | undefined>;
  /**
   * Creates a user linked to a provider identity, atomically. Throws `conflict` with code
   * `identity-exists` when the identity is linked already, `user-exists` when the login is taken.
   */
  createUserWithIdentity(login: string, issuer: string, subject: string): Promise<User>;
  /** The provider identity linked to a user, if any. */
  findIdentityOfUser(userId: number): Promise<{ issuer: string; subject: string } | undefined>;

  /**
   * Disables or enables an account (recorded in the change log: every process forgets its cached
   * tokens); false when it was in that state already.
   */
  setDisabled(userId: number, disabled: boolean): Promise<boolean>;
  isDisabled(userId: number): Promise<boolean>;
}
