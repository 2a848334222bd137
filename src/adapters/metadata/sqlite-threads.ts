// SQLite work off the event loop. better-sqlite3 is synchronous: a statement on the serving thread
// holds every request for its duration.
// - Writes: an fsync (synchronous = FULL) is included, and a batch of audit events written in
//   200-row statements held the loop for 160-260 ms every 2 s under download load (bench/README.md,
//   "hot-path tail"). The batched writes that serving causes (audit events, download counts, token
//   last-use, shared rate counts, and their pruning) are sent to a writer thread with its own
//   connection. A call resolves once the thread's write committed, so the callers' promises (what
//   may be lost on a crash, what a failed batch keeps) are unchanged.
// - Index-file reads: the stored file of a large crate is megabytes of overflow pages, which took up
//   to 85 ms on the loop when the disk had to be read (bench/README.md, "Cold reads at 150,000
//   crates"), and every request waited behind it. A file missing from the cache is read on a reader
//   thread with a read-only connection (in batches under load: `indexReads` below); WAL gives it
//   every transaction committed before the read began, as the server's own connection would see.
// - Searches: one that matches most of a large registry took over a second on the loop (100,000
//   crates sharing a phrase), and any reader could repeat it. Their statements, compiled here, run
//   on the reader thread too: a long search holds other searches and cold index reads, not the
//   requests answered from memory.
// Everything else stays on the server's connection. Both threads run sqlite-thread-worker.ts, and
// keep the process alive only while a call is under way.

import { Worker } from 'node:worker_threads';
import { RegistryError, type ErrorCode, type ErrorKind } from '../../domain/errors.js';
import type { IndexFile, IndexFileForm } from '../../domain/index-file.js';
import { BatchedReads } from '../../lib/batched-reads.js';
import type { MetadataRepositories } from '../../ports/metadata-database.js';
import type { SqlCrateSearch } from './sql-crate-search.js';
import { withOwn, type RepositoryRouting } from './sql-database.js';
import type { ThreadOperations } from './sqlite-thread-worker.js';

export interface ThreadSettings {
  file: string;
  busyTimeoutMs: number;
  /** The driver's file, as the main thread loaded it (sqliteDriverPath). */
  driverPath: string;
  /** The writer: how often it runs a PASSIVE WAL checkpoint. The reader has neither writes nor checkpoints. */
  role: { kind: 'writer'; checkpointMs: number } | { kind: 'reader' };
}

type Operation = keyof ThreadOperations;
export type ThreadRequest = { id: number; op: Operation; args: unknown[] } | { id: number; op: 'close' };
export interface SerializedError {
  message: string;
  code?: string;
  registry?: { kind: ErrorKind; code: ErrorCode; retryAfterSeconds: number | undefined };
}
export type ThreadReply = { id: number; value: unknown; error?: undefined } | { id: number; error: SerializedError };

function revive(error: SerializedError): Error {
  if (error.registry)
    return new RegistryError(error.registry.kind, error.registry.code, error.message, {
      retryAfterSeconds: error.registry.retryAfterSeconds,
    });
  return Object.assign(new Error(`SQLite thread: ${error.message}`), error.code !== undefined ? { code: error.code } : {});
}

/** A worker thread with a SQLite connection of its own, running the operations of sqlite-thread-worker.ts. */
class SqliteThread {
  /** The thread: started at once (the writer's timer checkpoints the WAL), and again by the next call after one died. */
  private thread: { worker: Worker; exited: Promise<void> } | undefined;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly settings: ThreadSettings) {
    this.thread = this.start();
  }

  /** Runs `op` on the thread; resolves when it is done there (a write: committed). */
  run<K extends Operation>(op: K, ...args: Parameters<ThreadOperations[K]>): Promise<Awaited<ReturnType<ThreadOperations[K]>>> {
    return this.send({ id: 0, op, args }) as Promise<Awaited<ReturnType<ThreadOperations[K]>>>;
  }

  /** Lets the calls under way finish, then closes the thread's connection and ends it. */
  async close(): Promise<void> {
    if (this.closed) return;
    const thread = this.thread;
    if (thread) await this.send({ id: 0, op: 'close' }).catch(() => {});
    this.closed = true;
    if (thread) {
      await thread.worker.terminate();
      await thread.exited;
    }
  }

  private send(request: ThreadRequest): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error(`the SQLite ${this.settings.role.kind} thread is closed`));
    const { worker } = (this.thread ??= this.start());
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  private start(): { worker: Worker; exited: Promise<void> } {
    const worker = new Worker(new URL('./sqlite-thread-worker.js', import.meta.url), {
      workerData: this.settings,
      // Its garbage is small messages (a file's bytes live outside the heap): a young generation of
      // V8's default size (up to 48 MiB) only adds resident memory.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    worker.unref();
    worker.on('message', (reply: ThreadReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.settled(reply.id);
      if (reply.error) waiter.reject(revive(reply.error));
      else waiter.resolve(reply.value);
    });
    // A thread that could not start or died fails the calls sent to it (writers keep their batches
    // and try again); the next call starts a new thread.
    let failure: Error | undefined;
    worker.on('error', (error) => (failure ??= error));
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', () => {
        if (this.thread?.worker === worker) this.thread = undefined;
        const error = failure ?? new Error(`the SQLite ${this.settings.role.kind} thread exited`);
        for (const [id, waiter] of this.waiting) {
          this.waiting.delete(id);
          waiter.reject(error);
        }
        resolve();
      }),
    );
    return { worker, exited };
  }

  private settled(id: number): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.thread?.worker.unref();
  }
}

/**
 * Index files read on the reader thread, a batch per message: under load, the reads that arrive
 * while two batches are under way go together in the next, so each message's cost on the event
 * loop (posting it, the reply's task) is shared; the thread always has the next batch waiting.
 */
const READS_IN_FLIGHT = 2;
const READS_PER_BATCH = 32;

/**
 * The serving process's threads: the writer and the reader, and the repositories with their
 * background writes, index-file reads and searches sent to them (the rest stays on the connection).
 */
export class SqliteThreads implements RepositoryRouting {
  private readonly writer: SqliteThread;
  private readonly reader: SqliteThread;
  private readonly indexReads: Record<IndexFileForm, BatchedReads<IndexFile>>;

  constructor(settings: Omit<ThreadSettings, 'role'> & { checkpointMs: number }) {
    const { checkpointMs, ...common } = settings;
    this.writer = new SqliteThread({ ...common, role: { kind: 'writer', checkpointMs } });
    this.reader = new SqliteThread({ ...common, role: { kind: 'reader' } });
    this.indexReads = indexReads(this.reader);
  }

  route(repositories: MetadataRepositories): MetadataRepositories {
    const { writer } = this;
    return {
      ...repositories,
      auditLog: withOwn(repositories.auditLog, {
        append: (events) => writer.run('appendAudit', events),
        prune: (before) => writer.run('pruneAudit', before),
      }),
      downloadCounts: withOwn(repositories.downloadCounts, { add: (counts) => writer.run('addDownloads', counts) }),
      tokens: withOwn(repositories.tokens, { recordTokenUse: (lastUse) => writer.run('recordTokenUse', lastUse) }),
      rateCounts: withOwn(repositories.rateCounts, {
        add: (limiter, window, events) => writer.run('addRateCounts', limiter, window, events),
        prune: (window) => writer.run('pruneRateCounts', window),
      }),
      crates: withOwn(repositories.crates, { readIndexFile: (lowerName, form) => this.indexReads[form].read(lowerName) }),
      search: (repositories.search as SqlCrateSearch).readingOn((query) => this.reader.run('readRows', query.sql, query.parameters)),
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.indexReads.gzip.drained(), this.indexReads.identity.drained()]);
    await Promise.all([this.writer.close(), this.reader.close()]);
  }
}

function indexReads(reader: SqliteThread): Record<IndexFileForm, BatchedReads<IndexFile>> {
  const batched = (form: IndexFileForm) =>
    new BatchedReads<IndexFile>(
      async (lowerNames) => {
        const rows = await reader.run('readIndexFiles', lowerNames, form);
        const files = new Map<string, IndexFile>();
        for (const [i, row] of rows.entries()) {
          if (row === null) continue;
          // The thread sends the bytes as a transferred ArrayBuffer, which arrives as a Uint8Array.
          files.set(
            lowerNames[i]!,
            row.gzip !== null ? { gzipped: asBuffer(row.gzip), etag: row.etag } : { body: asBuffer(row.body!), etag: row.etag },
          );
        }
        return files;
      },
      READS_IN_FLIGHT,
      READS_PER_BATCH,
    );
  return { gzip: batched('gzip'), identity: batched('identity') };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
