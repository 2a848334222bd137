// Index-file reads on PostgreSQL, in batches (lib/batched-reads.ts). A cold read is one small query,
// and at 150,000 crates under load each paid its own round trip, parse, plan and execution, and
// waited for one of the pool's connections: 3.3k reads/s with a p99 of 126 ms, where SQLite served
// 9.2k (bench/README.md). Here reads that arrive while MAX_IN_FLIGHT queries are under way wait and
// go together in the next one (`name_lower = any($1)`); on a server that keeps up, each read still
// goes alone, at once. The other queries keep the rest of the pool. Only the top-level repository's
// reads are batched: a read inside a transaction sees that transaction. Their two statements (one a
// form) are prepared once on each connection (postgres-pool.ts).

import type { IndexFile, IndexFileForm } from '../../domain/index-file.js';
import { BatchedReads } from '../../lib/batched-reads.js';
import type { MetadataRepositories } from '../../ports/metadata-database.js';
import { withOwn, type RepositoryRouting } from './sql-database.js';
import type { GuardedPool } from './postgres-pool.js';
import { indexFilesStatementsOnPostgres, readIndexFilesOnPostgres } from './sql-index-files.js';
import type { Db } from './sql-scope.js';

/** Queries of index files at once, per form; fewer than the pool's connections (postgres.ts). */
const MAX_IN_FLIGHT = 4;
/** Files per query: a batch of large files in their plain form is decoded on the event loop at once. */
const MAX_BATCH = 32;

export class PostgresIndexReads implements RepositoryRouting {
  private readonly reads: Record<IndexFileForm, BatchedReads<IndexFile>>;

  constructor(db: Db, pool: Pick<GuardedPool, 'prepare'>) {
    const statements = indexFilesStatementsOnPostgres(db);
    pool.prepare(statements.gzip.query.sql, 'cratekeeper_index_files_gzip');
    pool.prepare(statements.identity.query.sql, 'cratekeeper_index_files_identity');
    const batched = (form: IndexFileForm) =>
      new BatchedReads<IndexFile>((names) => readIndexFilesOnPostgres(db, names, statements[form]), MAX_IN_FLIGHT, MAX_BATCH);
    this.reads = { gzip: batched('gzip'), identity: batched('identity') };
  }

  route(repositories: MetadataRepositories): MetadataRepositories {
    return {
      ...repositories,
      crates: withOwn(repositories.crates, { readIndexFile: (lowerName, form) => this.reads[form].read(lowerName) }),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.reads.gzip.drained(), this.reads.identity.drained()]);
  }
}
