// The metadata database as one object: it owns the connection and the schema, and hands out the
// small repositories that services use (each service takes only the ones it needs). Opened by
// registry.ts on SQLite or PostgreSQL (openMetadataDatabase in src/registry.ts).

import type { AuditLog } from './audit-log.js';
import type { Catalog } from './catalog.js';
import type { ChangeLog } from './change-log.js';
import type { CrateSearch } from './crate-search.js';
import type { DeviceFlow } from './device-flow.js';
import type { Crates } from './crates.js';
import type { DownloadCounts } from './download-counts.js';
import type { Groups } from './groups.js';
import type { IdTokenReplays } from './id-token-replays.js';
import type { Owners } from './owners.js';
import type { PolicyStore } from './policy-store.js';
import type { RateCounts } from './rate-counts.js';
import type { RegistryTables } from './registry-tables.js';
import type { ServerSecrets } from './server-secrets.js';
import type { Tokens } from './tokens.js';
import type { Users } from './users.js';

export interface MetadataRepositories {
  users: Users;
  groups: Groups;
  tokens: Tokens;
  crates: Crates;
  owners: Owners;
  search: CrateSearch;
  changes: ChangeLog;
  secrets: ServerSecrets;
  idTokens: IdTokenReplays;
  catalog: Catalog;
  auditLog: AuditLog;
  downloadCounts: DownloadCounts;
  rateCounts: RateCounts;
  deviceFlow: DeviceFlow;
  /** Supply-chain policy: settings, holds and releases, first sightings (src/policy/). */
  policy: PolicyStore;
}

/**
 * Where the database's schema stands against this build. Versions are compared as sets, so that a
 * migration numbered below one already applied (written at the same time on another branch) is
 * still applied, and counted as missing until it is.
 */
export interface SchemaState {
  applied: number[];
  /** Known here, not applied yet: `cratekeeper migrate` applies them. */
  missing: number[];
  /** Applied by a newer cratekeeper: this one must not run on it. */
  unknown: number[];
}

export interface MetadataDatabase extends MetadataRepositories {
  /**
   * A unit of work: runs `work` in one transaction, with repositories bound to it. Everything they
   * write commits together when `work` resolves, and nothing when it throws. Operations that are
   * atomic by their contract (a publish, a yank) stay atomic inside it.
   */
  transaction<T>(work: (repositories: MetadataRepositories) => Promise<T>): Promise<T>;
  schemaState(): Promise<SchemaState>;
  /** The tables as rows, for export and import. */
  tables: RegistryTables;
  close(): Promise<void>;
}
