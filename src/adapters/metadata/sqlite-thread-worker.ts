// The worker threads of sqlite-threads.ts, each on a connection of its own.
// - The writer runs the registry's background writes on SQLite (audit events, download counts, token
//   last-use, shared rate counts, and their pruning). A commit's fsync, the automatic WAL checkpoint
//   that SQLite runs inside a commit, and a wait for the write lock then hold this thread, never the
//   event loop that answers index and download requests. The server's connection leaves checkpoints
//   to this one (sqlite.ts), which also runs a PASSIVE one on a timer, so the WAL stays bounded when
//   only the server's own writes (publishes) grow it.
// - The reader, on a read-only connection, reads stored index files and hands their bytes over
//   without a copy, and runs the statements of searches.

import { parentPort, workerData } from 'node:worker_threads';
import { RegistryError } from '../../domain/errors.js';
import { openThreadConnection } from './sqlite-thread-connection.js';
import type { ReaderOperations } from './sqlite-reader-operations.js';
import type { WriterOperations } from './sqlite-writer-operations.js';
import type { SerializedError, ThreadReply, ThreadRequest, ThreadSettings } from './sqlite-threads.js';

const settings = workerData as ThreadSettings;
const role = settings.role;
const connection = openThreadConnection(settings);
// Each role loads what it runs, and no more (the reader: the driver only).
const { operations, close } =
  role.kind === 'reader'
    ? (await import('./sqlite-reader-operations.js')).readerOperations(connection)
    : (await import('./sqlite-writer-operations.js')).writerOperations(connection);
export type ThreadOperations = WriterOperations & ReaderOperations;

/** The read index files' bytes or gzip forms that are a whole ArrayBuffer of their own: moved, not copied. */
function transferable(reply: ThreadReply): ArrayBuffer[] {
  if (reply.error !== undefined || !Array.isArray(reply.value)) return [];
  const buffers: ArrayBuffer[] = [];
  for (const row of reply.value as ({ body?: unknown; gzip?: unknown } | null)[]) {
    const bytes = row?.gzip ?? row?.body;
    if (!(bytes instanceof Uint8Array) || bytes.byteOffset !== 0 || bytes.byteLength !== bytes.buffer.byteLength) continue;
    if (bytes.buffer instanceof ArrayBuffer) buffers.push(bytes.buffer);
  }
  return buffers;
}

function serialize(error: unknown): SerializedError {
  if (error instanceof RegistryError)
    return { registry: { kind: error.kind, code: error.code, retryAfterSeconds: error.retryAfterSeconds }, message: error.message };
  const { message, code } = error as { message?: unknown; code?: unknown };
  return { message: String(message ?? error), ...(typeof code === 'string' ? { code } : {}) };
}

// Failing is the caller's to report (it keeps its batch); a checkpoint that cannot run now
// (a reader holds old pages) runs at the next tick.
const checkpoints =
  role.kind === 'writer'
    ? setInterval(() => {
        try {
          connection.pragma('wal_checkpoint(PASSIVE)');
        } catch {
          // busy: the next tick tries again
        }
      }, role.checkpointMs)
    : undefined;
checkpoints?.unref();

let closing = false;
parentPort!.on('message', (request: ThreadRequest) => {
  void handle(request);
});

async function handle(request: ThreadRequest): Promise<void> {
  let reply: ThreadReply;
  try {
    if (request.op === 'close') {
      closing = true;
      clearInterval(checkpoints);
      await close();
      reply = { id: request.id, value: undefined };
    } else if (closing) {
      throw new Error(`the SQLite ${role.kind} thread is closed`);
    } else {
      const run = (operations as Partial<ThreadOperations>)[request.op] as ((...args: unknown[]) => Promise<unknown>) | undefined;
      if (run === undefined) throw new Error(`the SQLite ${role.kind} thread does not run ${request.op}`);
      reply = { id: request.id, value: await run(...request.args) };
    }
  } catch (error) {
    reply = { id: request.id, error: serialize(error) };
  }
  parentPort!.postMessage(reply, transferable(reply));
  if (request.op === 'close') parentPort!.close();
}
