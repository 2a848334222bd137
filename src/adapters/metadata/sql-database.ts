// The metadata database on SQL (SQLite or PostgreSQL, see sqlite.ts and postgres.ts): the one
// owner of the Kysely handle. It hands out the repositories, runs units of work over them, and
// answers for the schema and the tables as rows; nothing else reaches the handle.

import type { Kysely } from 'kysely';
import type { MetadataDatabase, MetadataRepositories, SchemaState } from '../../ports/metadata-database.js';
import { schemaState } from './migrations.js';
import { SqlRegistryTables } from './sql-registry-tables.js';
import { sqlRepositories } from './sql-repositories.js';
import type { Database } from './sql-schema.js';
import { SqlScope, type SqlDialectRules } from './sql-scope.js';

/**
 * Where some of the repositories' work goes instead of one query on the connection: to threads
 * (sqlite-threads.ts: the batched writes that serving causes, and index-file reads), or into batches
 * (postgres-index-reads.ts). Only the top-level repositories are routed; a unit of work runs in its
 * own transaction on the connection.
 */
export interface RepositoryRouting {
  route(repositories: MetadataRepositories): MetadataRepositories;
  /** Finishes the calls under way; called before the connection closes. */
  close(): Promise<void>;
}

/** `repository` with `own` in place of some of its methods; its other methods are its own. */
export function withOwn<T extends object>(repository: T, own: Partial<T>): T {
  return Object.assign(Object.create(repository) as T, own);
}

export class SqlMetadataDatabase implements MetadataDatabase {
  private readonly scope: SqlScope;
  readonly users: MetadataRepositories['users'];
  readonly groups: MetadataRepositories['groups'];
  readonly tokens: MetadataRepositories['tokens'];
  readonly crates: MetadataRepositories['crates'];
  readonly owners: MetadataRepositories['owners'];
  readonly search: MetadataRepositories['search'];
  readonly changes: MetadataRepositories['changes'];
  readonly secrets: MetadataRepositories['secrets'];
  readonly idTokens: MetadataRepositories['idTokens'];
  readonly catalog: MetadataRepositories['catalog'];
  readonly auditLog: MetadataRepositories['auditLog'];
  readonly downloadCounts: MetadataRepositories['downloadCounts'];
  readonly rateCounts: MetadataRepositories['rateCounts'];
  readonly deviceFlow: MetadataRepositories['deviceFlow'];
  readonly webhookEndpoints: MetadataRepositories['webhookEndpoints'];
  readonly webhookDeliveries: MetadataRepositories['webhookDeliveries'];
  readonly docBuilds: MetadataRepositories['docBuilds'];
  readonly policy: MetadataRepositories['policy'];
  readonly advisories: MetadataRepositories['advisories'];
  readonly tables: SqlRegistryTables;

  constructor(
    /** The handle itself, for this adapter's own tests; the rest of the code uses the repositories. */
    readonly db: Kysely<Database>,
    rules: SqlDialectRules,
    private readonly routing?: RepositoryRouting,
  ) {
    this.scope = SqlScope.onConnection(db, rules);
    const own = sqlRepositories(this.scope);
    const repositories = routing ? routing.route(own) : own;
    this.users = repositories.users;
    this.groups = repositories.groups;
    this.tokens = repositories.tokens;
    this.crates = repositories.crates;
    this.owners = repositories.owners;
    this.search = repositories.search;
    this.changes = repositories.changes;
    this.secrets = repositories.secrets;
    this.idTokens = repositories.idTokens;
    this.catalog = repositories.catalog;
    this.auditLog = repositories.auditLog;
    this.downloadCounts = repositories.downloadCounts;
    this.rateCounts = repositories.rateCounts;
    this.deviceFlow = repositories.deviceFlow;
    this.webhookEndpoints = repositories.webhookEndpoints;
    this.webhookDeliveries = repositories.webhookDeliveries;
    this.docBuilds = repositories.docBuilds;
    this.policy = repositories.policy;
    this.advisories = repositories.advisories;
    this.tables = new SqlRegistryTables(db, rules);
  }

  transaction<T>(work: (repositories: MetadataRepositories) => Promise<T>): Promise<T> {
    return this.scope.atomically((tx) => work(sqlRepositories(tx)));
  }

  schemaState(): Promise<SchemaState> {
    return schemaState(this.db);
  }

  async close(): Promise<void> {
    try {
      await this.routing?.close();
    } finally {
      await this.db.destroy();
    }
  }
}
