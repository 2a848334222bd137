// Index-file reads on PostgreSQL, in batches (lib/batched-reads.ts). A cold read is one small query,
// and at 150,000 crates under load each paid its own round trip, parse, plan and execution, and
// waited for one of the pool's connections: 3.3k reads/s with a p99 of 126 ms, where SQLite served
// 9.2k (bench/README.md). Here reads that arrive while a query of their form is under way wait and
// go together in the next one (`name_lower = any($1)`); on a server that keeps up, each read still
// goes alone, at once. The other queries keep the rest of the pool. Only the top-level repository's
// reads are batched: a read inside a transaction sees that transaction. Their two statements (one a
// form) are prepared once on each connection (postgres-pool.ts).

import type { IndexFile, IndexFileForm } from '../../domain/index-file.js';
import { BatchedReads } from '../../lib/batched-reads.js';
import type { MetadataRepositories } from '../../ports/metadata-database.js';
import { withOwn, type RepositoryRouting } from './sql-database.js';
import type { GuardedPool } from './postgres-pool.js';
import { indexFilesStatementOnPostgres, readIndexFilesOnPostgres } from './sql-index-files.js';
import type { Db } from './sql-scope.js';

/**
 * Queries of index files at once, per form. One: reads that arrive while it runs go together in the
 * next, so under load each query carries more of them, and what a query costs beyond its rows
 * (a round trip, a bind, a backend woken, the driver's and the event loop's work) is shared by more
 * reads. With four at once (of each form) batches were smaller: at 150,000 crates on this 2-core
 * machine PostgreSQL spent 70-72 us a cold read against 31-40 us, the event loop 91-92 against
 * 59-87 us, and the p99 was about twice as long (bench/README.md). What one query costs for its
 * wait: a batch of large files holds the reads of its form behind it (the plain form has its own
 * queue), and a distant database bounds a form's reads by MAX_BATCH a round trip (16,000 a second
 * at 2 ms).
 */
const MAX_IN_FLIGHT = 1;
/** Files per query: a batch of large files in their plain form is decoded on the event loop at once. */
const MAX_BATCH = 32;

export class PostgresIndexReads implements RepositoryRouting {
  private readonly reads: Record<IndexFileForm, BatchedReads<IndexFile>>;

  constructor(db: Db, pool: Pick<GuardedPool, 'prepare'>) {
    const batched = (form: IndexFileForm) => {
      const statement = indexFilesStatementOnPostgres(db, form);
      pool.prepare(statement.query.sql, `cratekeeper_index_files_${form}`);
      return new BatchedReads<IndexFile>((names) => readIndexFilesOnPostgres(db, names, statement), MAX_IN_FLIGHT, MAX_BATCH);
    };
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
