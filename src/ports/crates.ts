// Crates and their versions: the publish and index side. A publish stores the crate (owned by its
// publisher when new), the version, the crate's new index file and a change-log entry in one
// transaction; a yank, the flag, the index file and a change-log entry.

import type { IndexFile, IndexFileForm } from '../domain/index-file.js';
import type { IndexEntry } from '../domain/index-line.js';

export interface StoredVersion {
  entry: IndexEntry;
  yanked: boolean;
}

export interface VersionBlob {
  blobKey: string;
  size: number;
  cksum: string;
}

/** Descriptive metadata kept beside a version (shown by search and the web pages). */
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

/** The details of a version that declared none: every field empty (a fresh object each call). */
export function emptyVersionDetails(): VersionDetails {
  return {
    description: null,
    license: null,
    repository: null,
    homepage: null,
    documentation: null,
    readme: null,
    keywords: [],
    categories: [],
    authors: [],
  };
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

export interface Crates {
  /** The crate's versions in publish order, or undefined when there is no such crate. */
  listVersions(lowerName: string): Promise<StoredVersion[] | undefined>;
  /**
   * The crate's index file, rendered and stored in the transaction of its last publish, yank or
   * unyank: one lookup, whatever the crate's size. Undefined when there is no such crate. `gzip`
   * reads the gzip form stored with it (the bytes only for a file too small to have one), so the
   * result holds one form, not both.
   */
  readIndexFile(lowerName: string, form: IndexFileForm): Promise<IndexFile | undefined>;
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
}
