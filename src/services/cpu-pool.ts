// CPU-heavy work (tarball checks, README rendering, large index renders) runs on worker threads,
// so that the event loop serving the index never waits for it. Tasks live in workers/cpu-tasks.ts;
// a task's typed errors cross the thread boundary as plain data and are thrown again here as the
// same RegistryError. Every task has a time limit: a worker that passes it is terminated (the only
// way to stop a CPU-bound loop) and the caller gets the error it chose. The queue is bounded: when
// it is full the caller gets `unavailable` with Retry-After instead of waiting without end.

import { Piscina } from 'piscina';
import { RegistryError, type ErrorKind } from '../domain/errors.js';
import type { CpuTasks, TaskOutcome } from '../workers/cpu-tasks.js';

export interface CpuPoolOptions {
  /** Worker threads; the event loop keeps a core of its own when there are two or more. */
  threads: number;
  /** Tasks waiting for a thread before new ones are refused. */
  maxQueue: number;
  /** Heap limit of each worker, in MiB: a task that needs more fails instead of growing the process. */
  maxHeapMb: number;
}

type TaskName = keyof CpuTasks;
type TaskArg<K extends TaskName> = Parameters<CpuTasks[K]>[0];
type TaskValue<K extends TaskName> = Awaited<ReturnType<CpuTasks[K]>> extends TaskOutcome<infer V> ? V : never;

export interface RunOptions {
  timeoutMs: number;
  /** The error when the task runs past its time limit (the input's fault, usually). */
  onTimeout: () => RegistryError;
}

const RETRY_AFTER_BUSY_SECONDS = 5;

export class CpuPool {
  private readonly pool: Piscina;
  /** Tasks running or waiting; counted here because the bound must hold from the first task on. */
  private inFlight = 0;
  private readonly maxInFlight: number;

  constructor(options: CpuPoolOptions) {
    this.maxInFlight = options.threads + options.maxQueue;
    this.pool = new Piscina({
      filename: new URL('../workers/cpu-tasks.js', import.meta.url).href,
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: 30_000,
      resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb },
    });
  }

  /** Tasks running or waiting now (read by tests and /metrics). */
  get active(): number {
    return this.inFlight;
  }

  /** Tasks finished since start (read by tests and /metrics). */
  get completed(): number {
    return this.pool.completed;
  }

  async run<K extends TaskName>(name: K, arg: TaskArg<K>, options: RunOptions): Promise<TaskValue<K>> {
    if (this.inFlight >= this.maxInFlight) {
      throw new RegistryError('unavailable', 'server-busy', `the server is busy with other uploads and pages; try again in ${RETRY_AFTER_BUSY_SECONDS} s`, {
        retryAfterSeconds: RETRY_AFTER_BUSY_SECONDS,
      });
    }
    let outcome: TaskOutcome<TaskValue<K>>;
    const signal = AbortSignal.timeout(options.timeoutMs);
    this.inFlight++;
    try {
      outcome = await this.pool.run(arg, { name, signal });
    } catch (error) {
      if (signal.aborted) throw options.onTimeout();
      if ((error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new RegistryError('too-large', 'task-out-of-memory', `this ${String(name)} needs more memory than the server allows for one request`);
      }
      throw error;
    } finally {
      this.inFlight--;
    }
    if (outcome.ok) return outcome.value;
    throw new RegistryError(outcome.error.kind as ErrorKind, outcome.error.code, outcome.error.message);
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
