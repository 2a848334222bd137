// Read models for the web pages: one crate with every version's details, the local crates among a
// list of names (for dependency links), and the users with their groups and sign-in methods.
// Access rules are applied by the caller; this port only reads.

import type { IndexEntry } from '../domain/index-line.js';
import type { VersionDetails } from './crates.js';
import type { User } from './users.js';

export interface CatalogVersion {
  entry: IndexEntry;
  yanked: boolean;
  publishedAt: string;
  /** Login of the publisher (null when the user no longer exists). */
  publishedBy: string | null;
}

export interface CatalogCrate {
  name: string;
  createdAt: string;
  updatedAt: string;
  /** In publish order. */
  versions: CatalogVersion[];
}

export interface UserSummary extends User {
  groups: { name: string; source: string }[];
  hasPassword: boolean;
  /** OpenID identities as `issuer subject`. */
  identities: string[];
  activeTokens: number;
}

export interface Catalog {
  /** The crate and its versions, without their descriptive details (READMEs make those large). */
  crate(lowerName: string): Promise<CatalogCrate | undefined>;
  /** One version's descriptive details. */
  versionDetails(lowerName: string, version: string): Promise<VersionDetails | undefined>;
  /** Of the given lower-case names, the ones that are crates here, mapped to their exact names. */
  existingCrates(lowerNames: readonly string[]): Promise<Map<string, string>>;
  users(): Promise<UserSummary[]>;
}
