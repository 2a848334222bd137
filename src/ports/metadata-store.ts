// The metadata store: users, tokens, crates, versions, owners, and a feed of changes that lets
// every process (and, later, every replica) drop cached data that a write made stale.
// Implementations: adapters/metadata/sql-store.ts on SQLite (and PostgreSQL by a new dialect).

import type { IndexEntry } from '../domain/index-line.js';

export interface User {
  id: number;
  login: string;
  isAdmin: boolean;
  createdAt: string;
}

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
}

export interface StoredVersion {
  entry: IndexEntry;
  yanked: boolean;
}

/** A version as stored: its index entry as JSON text, unparsed (see listVersionsJson). */
export interface StoredVersionJson {
  entryJson: string;
  yanked: boolean;
}

export interface VersionBlob {
  blobKey: string;
  size: number;
  cksum: string;
}

/** Descriptive metadata kept beside a version (shown by search and, later, the web pages). */
export interface VersionDetails {
  description: string | null;
  license: string | null;
  repository: string | null;
  homepage: string | null;
  documentation: string | null;
  readme: string | null;
  keywords: string[];
  categories: string[];
  authors: string[];
}

export interface NewVersion {
  entry: IndexEntry;
  /** The version without build metadata: unique within a crate. */
  versionKey: string;
  normalizedName: string;
  blobKey: string;
  size: number;
  details: VersionDetails;
  publisherId: number;
  publishedAt: string;
}

export interface SearchHit {
  name: string;
  description: string | null;
  versions: StoredVersion[];
}

export interface Change {
  seq: number;
  kind: 'crate' | 'token' | 'user';
  /** crate: lower-case name; token: token hash; user: user id (its groups or flags changed). */
  subject: string;
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

export interface MetadataStore {
  createUser(login: string, isAdmin: boolean): Promise<User>;
  findUserByLogin(login: string): Promise<User | undefined>;
  countUsers(): Promise<number>;

  insertToken(token: NewToken): Promise<TokenRecord>;
  findPrincipalByTokenHash(hash: string): Promise<TokenPrincipal | undefined>;
  listTokens(userId: number): Promise<TokenRecord[]>;
  /** Returns false when no active token has that id. */
  revokeToken(id: number): Promise<boolean>;
  recordTokenUse(lastUse: ReadonlyMap<number, string>): Promise<void>;

  /** Local group membership; both return false when nothing changed. */
  addGroupMember(group: string, userId: number): Promise<boolean>;
  removeGroupMember(group: string, userId: number): Promise<boolean>;
  listGroupMembers(group: string): Promise<User[]>;

  /** Identity: local passwords (argon2 hashes, null: none). */
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
  /**
   * Makes the user's memberships from `source` (e.g. `oidc`) exactly `groups`; memberships from
   * other sources stay. Returns whether anything changed (and records a change if so).
   */
  replaceGroups(userId: number, source: string, groups: readonly string[]): Promise<boolean>;
  /** Remembers an ID token's `jti` until it expires; false when it was seen before (a replay). */
  recordIdTokenUse(issuer: string, jti: string, expiresAt: string): Promise<boolean>;
  /** A secret shared by every process on this database, made by `create` on first use. */
  getOrCreateSecret(name: string, create: () => string): Promise<string>;

  /** The crate's versions in publish order, or undefined when there is no such crate. */
  listVersions(lowerName: string): Promise<StoredVersion[] | undefined>;
  /**
   * The same, with each entry as the stored JSON text: a worker thread can parse and render a large
   * crate's index file without the event loop parsing it first (services/index-files.ts).
   */
  listVersionsJson(lowerName: string): Promise<StoredVersionJson[] | undefined>;
  /**
   * Stores a version atomically, creating the crate (owned by the publisher) if it is new.
   * Throws `conflict` when the version exists (build metadata ignored) or the name is taken in
   * another spelling, and `forbidden` when the crate exists and the publisher is not an owner.
   */
  publishVersion(version: NewVersion): Promise<{ newCrate: boolean }>;
  /** Returns false when the crate or version does not exist. */
  setYanked(lowerName: string, version: string, yanked: boolean): Promise<boolean>;
  findVersionBlob(lowerName: string, version: string): Promise<VersionBlob | undefined>;
  /** The exact-case name of an existing crate, found by its normalized name. */
  findCrateName(normalizedName: string): Promise<string | undefined>;

  listOwners(lowerName: string): Promise<User[] | undefined>;
  /** Groups that own the crate: each of their members is an owner. */
  listOwnerGroups(lowerName: string): Promise<string[] | undefined>;
  addOwners(lowerName: string, userIds: number[], groups?: string[]): Promise<void>;
  /** Throws `conflict` (and changes nothing) when no user or group would be left owning the crate. */
  removeOwners(lowerName: string, userIds: number[], groups?: string[]): Promise<void>;

  /** Crates whose name or description contains `query`; with `visible`, only the names it accepts. */
  searchCrates(
    query: string,
    limit: number,
    offset: number,
    visible?: (name: string) => boolean,
  ): Promise<{ total: number; hits: SearchHit[] }>;

  changesSince(seq: number): Promise<Change[]>;
  latestChangeSeq(): Promise<number>;

  close(): Promise<void>;
}
