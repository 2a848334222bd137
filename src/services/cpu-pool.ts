// CPU-heavy work (tarball checks, README rendering, large index renders) runs on worker threads,
// so that the event loop serving the index never waits for it. Tasks live in workers/cpu-tasks.ts;
// a task's typed errors cross the thread boundary as plain data and are thrown again here as the
// same RegistryError. Every task has a time limit on its own run: a worker that passes it is
// terminated (the only way to stop a CPU-bound loop) and the caller gets the error it chose.
// Tasks wait for a thread here, first come first served, and are handed to piscina only when a
// thread is free, so a task's clock starts when it starts: an honest crate checked after others is
// never blamed for their time (piscina runs tasks that carry an abort signal out of order, and
// their signal ticks while they wait). The wait is bounded in count and in time: beyond either the
// caller gets `unavailable` with Retry-After instead of waiting without end.

import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { isErrorCode, RegistryError, type ErrorKind } from '../domain/errors.js';
import type { CpuTasks, TaskEnvelope, TaskOutcome } from '../workers/cpu-tasks.js';

export interface CpuPoolOptions {
  /** Worker threads; the event loop keeps a core of its own when there are two or more. */
  threads: number;
  /** Tasks waiting for a thread before new ones are refused. */
  maxQueue: number;
  /** Heap limit of each worker, in MiB: a task that needs more fails instead of growing the process. */
  maxHeapMb: number;
  /** Longest wait for a thread before the caller is told the server is busy (default 30 s). */
  maxWaitMs?: number;
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
/** As long as the longest time limit in use (the tarball check): a caller waits at most that, then runs. */
const DEFAULT_MAX_WAIT_MS = 30_000;
/** How long a worker may take to start before its task's clock starts anyway (a stuck start is not a wait without end). */
const WORKER_START_ALLOWANCE_MS = 30_000;

function serverBusy(): RegistryError {
  return new RegistryError(
    'unavailable',
    'server-busy',
    `the server is busy with other uploads and pages; try again in ${RETRY_AFTER_BUSY_SECONDS} s`,
    {
      retryAfterSeconds: RETRY_AFTER_BUSY_SECONDS,
    },
  );
}

/** A task waiting for a thread: `start` gives it one, `refuse` turns it away. */
interface Waiter {
  start: () => void;
  refuse: (error: RegistryError) => void;
}

export class CpuPool {
  private readonly pool: Piscina;
  private readonly threads: number;
  private readonly maxWaitMs: number;
  /** Tasks running or waiting; counted here because the bound must hold from the first task on. */
  private inFlight = 0;
  private readonly maxInFlight: number;
  /** Tasks handed to piscina, never more than `threads`, so that piscina never queues one. */
  private running = 0;
  /** Tasks waiting for a thread, oldest first. */
  private readonly waiting: Waiter[] = [];
  private closed = false;

  constructor(options: CpuPoolOptions) {
    this.threads = options.threads;
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
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
    if (this.closed || this.inFlight >= this.maxInFlight) throw serverBusy();
    this.inFlight++;
    try {
      await this.threadFree();
      try {
        return await this.runOnThread(name, arg, options);
      } finally {
        this.running--;
        this.startWaiting();
      }
    } finally {
      this.inFlight--;
    }
  }

  /** Resolves when the caller holds one of the threads; refuses it after `maxWaitMs` of waiting. */
  private threadFree(): Promise<void> {
    if (this.running < this.threads && this.waiting.length === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(waiter), 1);
        reject(serverBusy());
      }, this.maxWaitMs);
      const waiter: Waiter = {
        start: () => {
          clearTimeout(timer);
          this.running++;
          resolve();
        },
        refuse: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.waiting.push(waiter);
    });
  }

  /** Gives free threads to the oldest waiting tasks. */
  private startWaiting(): void {
    while (this.running < this.threads) {
      const next = this.waiting.shift();
      if (!next) return;
      next.start();
    }
  }

  /**
   * Runs the task on the thread the caller holds. Its time limit starts when the worker says the
   * task has started: neither the wait for a thread nor a fresh worker's start-up counts against it.
   */
  private async runOnThread<K extends TaskName>(name: K, arg: TaskArg<K>, options: RunOptions): Promise<TaskValue<K>> {
    let outcome: TaskOutcome<TaskValue<K>>;
    // Aborting a running task terminates only its own worker (one task per worker in piscina).
    const overrun = new AbortController();
    const stop = () => overrun.abort();
    let timer = setTimeout(stop, WORKER_START_ALLOWANCE_MS + options.timeoutMs);
    const { port1: startedNotice, port2: startedPort } = new MessageChannel();
    startedNotice.once('message', () => {
      clearTimeout(timer);
      timer = setTimeout(stop, options.timeoutMs);
    });
    const envelope: TaskEnvelope = { name, arg, started: startedPort };
    try {
      outcome = await this.pool.run(envelope, { name: 'runTask', signal: overrun.signal, transferList: [startedPort] });
    } catch (error) {
      if (overrun.signal.aborted) throw options.onTimeout();
      if ((error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
        throw new RegistryError(
          'too-large',
          'task-out-of-memory',
          `this ${String(name)} needs more memory than the server allows for one request`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
      startedNotice.close();
    }
    if (outcome.ok) return outcome.value;
    // The code crossed the thread boundary as a plain string: keep it only if it is one of ours.
    const code = isErrorCode(outcome.error.code) ? outcome.error.code : 'task-failed';
    throw new RegistryError(outcome.error.kind as ErrorKind, code, outcome.error.message);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.refuse(serverBusy());
    // piscina's idle workers do not hold the process open, so while their threads stop nothing may:
    // the process could exit halfway through a shutdown (or a test file) with the steps after this
    // one never run. A timer holds it open until the threads are gone.
    const holdOpen = setInterval(() => undefined, 1000);
    try {
      await this.pool.destroy();
    } finally {
      clearInterval(holdOpen);
    }
  }
}
