// Background writes on SQLite, off the event loop. better-sqlite3 is synchronous: a write on the
// serving thread holds every request for its duration, an fsync included (synchronous = FULL), and
// a batch of audit events written in 200-row statements held it for 160-260 ms every 2 s under
// download load (bench/README.md, "hot-path tail"). The batched writes that serving causes (audit
// events, download counts, token last-use, shared rate counts, and their pruning) are therefore sent
// to a worker thread with its own connection (sqlite-writer-thread.ts); everything else, reads
// included, stays on the server's connection. A call resolves once the thread's write committed,
// so the callers' promises (what may be lost on a crash, what a failed batch keeps) are unchanged.
// The thread keeps the process alive only while a write is under way.

import { Worker } from 'node:worker_threads';
import { RegistryError, type ErrorCode, type ErrorKind } from '../../domain/errors.js';
import type { MetadataRepositories } from '../../ports/metadata-database.js';
import type { BackgroundWrites } from './sql-database.js';
import type { WriterOperations } from './sqlite-writer-thread.js';

export interface WriterSettings {
  file: string;
  busyTimeoutMs: number;
  /** The driver's file, as the main thread loaded it (sqliteDriverPath). */
  driverPath: string;
  /** How often the thread runs a PASSIVE WAL checkpoint. */
  checkpointMs: number;
}

type Operation = keyof WriterOperations;
export type WriterRequest = { id: number; op: Operation; args: unknown[] } | { id: number; op: 'close' };
export interface SerializedError {
  message: string;
  code?: string;
  registry?: { kind: ErrorKind; code: ErrorCode; retryAfterSeconds: number | undefined };
}
export type WriterReply = { id: number; value: unknown; error?: undefined } | { id: number; error: SerializedError };

function revive(error: SerializedError): Error {
  if (error.registry)
    return new RegistryError(error.registry.kind, error.registry.code, error.message, {
      retryAfterSeconds: error.registry.retryAfterSeconds,
    });
  return Object.assign(new Error(`background write failed: ${error.message}`), error.code !== undefined ? { code: error.code } : {});
}

export class SqliteWriter implements BackgroundWrites {
  /** The thread: started at once (its timer checkpoints the WAL), and again by the next write after one died. */
  private thread: { worker: Worker; exited: Promise<void> } | undefined;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private closed = false;

  constructor(private readonly settings: WriterSettings) {
    this.thread = this.start();
  }

  /** Runs `op` on the thread; resolves when its write committed there. */
  run<K extends Operation>(op: K, ...args: Parameters<WriterOperations[K]>): Promise<Awaited<ReturnType<WriterOperations[K]>>> {
    return this.send({ id: 0, op, args }) as Promise<Awaited<ReturnType<WriterOperations[K]>>>;
  }

  route(repositories: MetadataRepositories): MetadataRepositories {
    return writingThrough(this, repositories);
  }

  /** Lets the writes under way finish, then closes the thread's connection and ends it. */
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

  private send(request: WriterRequest): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('the background writer is closed'));
    const { worker } = (this.thread ??= this.start());
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ ...request, id });
    });
  }

  private start(): { worker: Worker; exited: Promise<void> } {
    const worker = new Worker(new URL('./sqlite-writer-thread.js', import.meta.url), { workerData: this.settings });
    worker.unref();
    worker.on('message', (reply: WriterReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.settled(reply.id);
      if (reply.error) waiter.reject(revive(reply.error));
      else waiter.resolve(reply.value);
    });
    // A thread that could not start or died fails the writes sent to it (their callers keep their
    // batches and try again); the next write starts a new thread.
    let failure: Error | undefined;
    worker.on('error', (error) => (failure ??= error));
    const exited = new Promise<void>((resolve) =>
      worker.once('exit', () => {
        if (this.thread?.worker === worker) this.thread = undefined;
        const error = failure ?? new Error('the background writer thread exited');
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

/** `repository` with `writes` in place of its own methods; its other methods (the reads) are its own. */
function withWrites<T extends object>(repository: T, writes: Partial<T>): T {
  return Object.assign(Object.create(repository) as T, writes);
}

/** The repositories with their background writes sent to `writer`; the reads stay as they are. */
function writingThrough(writer: SqliteWriter, repositories: MetadataRepositories): MetadataRepositories {
  return {
    ...repositories,
    auditLog: withWrites(repositories.auditLog, {
      append: (events) => writer.run('appendAudit', events),
      prune: (before) => writer.run('pruneAudit', before),
    }),
    downloadCounts: withWrites(repositories.downloadCounts, { add: (counts) => writer.run('addDownloads', counts) }),
    tokens: withWrites(repositories.tokens, { recordTokenUse: (lastUse) => writer.run('recordTokenUse', lastUse) }),
    rateCounts: withWrites(repositories.rateCounts, {
      add: (limiter, window, events) => writer.run('addRateCounts', limiter, window, events),
      prune: (window) => writer.run('pruneRateCounts', window),
    }),
  };
}
