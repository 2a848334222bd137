// The export archive: a folder that holds a whole registry, readable with any JSON tool.
//
//   manifest.json          what is inside, with the SHA-256 of every table file
//   tables/<table>.jsonl   every row of a table, one JSON object a line, columns as stored
//   blobs/<sha256>.crate   every .crate file once, named by its SHA-256 (the index `cksum`)
//   docs/<sha256>.tar.gz   every version's rustdoc archive (table doc_builds, its docs_key names the SHA-256)
//
// Rows keep their ids, so tokens (stored as hashes, with scopes, crate patterns and expiry),
// owners and groups keep pointing at the right users, and old tokens keep working after import.
// The change feed and the rate-limit counters are not exported: they describe running processes.
// Download counts (version_downloads) are: they are the registry's history, shown on crate pages.

import type { TableRow } from '../ports/registry-tables.js';

export const ARCHIVE_FORMAT = 'cratekeeper-export';
export const ARCHIVE_FORMAT_VERSION = 1;

export interface ArchiveTable {
  name: string;
  file: string;
  rows: number;
  sha256: string;
}

export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  formatVersion: number;
  createdAt: string;
  /** Schema migrations applied to the source database. */
  schemaMigrations: number[];
  tables: ArchiveTable[];
  blobs: { count: number; bytes: number };
  /** Rustdoc archives (absent in archives from before docs hosting). */
  docs?: { count: number; bytes: number };
}

/**
 * Tables that describe running processes rather than the registry, and SQLite's search index
 * (the FTS5 table `crate_search` and its shadow tables, migration 8), rebuilt from `crates` on import.
 */
export const NOT_EXPORTED = new Set([
  'schema_migrations',
  'changes',
  'rate_limit_counts',
  // Terminal sign-ins under way (minutes long): the device asks again after an import.
  'device_authorizations',
  // The webhook delivery queue and log (migration 12): deliveries in flight belong to the running
  // registry. The endpoints (webhook_endpoints) are exported, their secrets sealed as stored.
  'webhook_deliveries',
  // Webhook events not yet turned into deliveries (migration 15): the same.
  'webhook_events',
  // Derived from the versions (migration 14): an import renders them again.
  'index_files',
  // Kept by triggers on crates (migration 17): an import's inserts count themselves.
  'crate_count',
  // Each version's sum of version_downloads (migration 20): an import sums the history it loaded.
  'version_download_totals',
  ...['', '_data', '_idx', '_docsize', '_config'].map((suffix) => `crate_search${suffix}`),
]);

/** Parents before children (foreign keys); tables not named here follow in name order. */
export const TABLE_ORDER = ['users', 'crates', 'tokens', 'group_members', 'versions', 'crate_owners', 'device_sessions'];

export function orderTables(names: string[]): string[] {
  const known = TABLE_ORDER.filter((t) => names.includes(t));
  return [...known, ...names.filter((t) => !TABLE_ORDER.includes(t)).sort()];
}

export const blobFileOf = (sha256: string) => `blobs/${sha256}.crate`;
export const docsFileOf = (sha256: string) => `docs/${sha256}.tar.gz`;

/** "name version" of a version row, from its blob key (`crates/<name>/<version>/<sha256>.crate`), for progress lines. */
export const versionLabel = (row: TableRow) => String(row.blob_key).split('/').slice(1, 3).join(' ');

/** A refusal or a damaged archive: the CLI prints its message as one line. */
export class ArchiveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}
