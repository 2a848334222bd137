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
  readonly policy: MetadataRepositories['policy'];
  readonly tables: SqlRegistryTables;

  constructor(
    /** The handle itself, for this adapter's own tests; the rest of the code uses the repositories. */
    readonly db: Kysely<Database>,
    rules: SqlDialectRules,
  ) {
    this.scope = SqlScope.onConnection(db, rules);
    const repositories = sqlRepositories(this.scope);
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
    this.policy = repositories.policy;
    this.tables = new SqlRegistryTables(db, rules);
  }

  transaction<T>(work: (repositories: MetadataRepositories) => Promise<T>): Promise<T> {
    return this.scope.atomically((tx) => work(sqlRepositories(tx)));
  }

  schemaState(): Promise<SchemaState> {
    return schemaState(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
