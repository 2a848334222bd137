// The CPU pool runs tasks on worker threads, not on the caller's thread, one after another in the
// order they came, and refuses work beyond its queue with a typed, retryable error. A task's time
// limit is its own run on a thread: time spent waiting behind other tasks never makes an honest
// input look hostile. The durations below are far apart (a 300 ms task under a 2000 ms limit), so
// a loaded machine cannot turn a pass into a failure or the reverse.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RegistryError } from '../../src/domain/errors.js';
import { CpuPool, type CpuPoolOptions, type RunOptions } from '../../src/services/cpu-pool.js';

const tooSlow = () => new RegistryError('too-large', 'crate-check-timeout', 'took too long');
const limit = (timeoutMs: number): RunOptions => ({ timeoutMs, onTimeout: tooSlow });

/** A pool closed when the describe block ends. */
function poolFor(options: Partial<CpuPoolOptions> & { threads: number }): CpuPool {
  const pool = new CpuPool({ maxQueue: 16, maxHeapMb: 64, ...options });
  after(() => pool.close());
  return pool;
}

function assertBusy(error: unknown): void {
  assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${String(error)}`);
  assert.equal(error.kind, 'unavailable');
  assert.equal(error.code, 'server-busy');
  assert.ok(error.retryAfterSeconds! > 0);
}

describe('CPU pool', () => {
  const pool = poolFor({ threads: 1, maxQueue: 1 });
  const timeout = limit(30_000);

  it('runs a task on a worker thread and returns its value', async () => {
    assert.equal(await pool.run('echo', 'hello', timeout), 'hello');
    assert.ok(pool.completed >= 1);
  });

  it('refuses a task beyond its queue with a retryable `unavailable`', async () => {
    const runs = Array.from({ length: 100 }, () => pool.run('echo', 'x', timeout));
    const results = await Promise.allSettled(runs);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.length > 0, 'some tasks are refused when one thread and a queue of one are full');
    for (const r of refused) assertBusy((r as PromiseRejectedResult).reason);
  });
});

describe('CPU pool: a time limit counts the run, not the wait', () => {
  it('lets an honest task finish although it waited behind others longer than its limit', async () => {
    const pool = poolFor({ threads: 1 });
    // Eight 300 ms tasks on one thread: the last waits at least 2100 ms, past its limit, before it runs.
    const runs = Array.from({ length: 8 }, () => pool.run('spin', 300, limit(2000)));
    assert.deepEqual(
      await Promise.all(runs),
      Array.from({ length: 8 }, () => 300),
    );
  });

  it('starts tasks in the order they were submitted', async () => {
    const pool = poolFor({ threads: 1 });
    const started: number[] = [];
    const runs = Array.from({ length: 8 }, (_, i) => pool.run('spin', 20, limit(30_000)).then(() => started.push(i)));
    await Promise.all(runs);
    // One thread runs one task at a time, so the order they finish in is the order they started in.
    assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops a task that overruns with its own error, and the task queued behind it still runs', async () => {
    const pool = poolFor({ threads: 1 });
    const overrun = pool.run('spin', 20_000, limit(2000));
    // Queued behind the overrun: waits about 2000 ms, its whole limit, then runs 300 ms.
    const next = pool.run('spin', 300, limit(2000));
    const last = pool.run('echo', 'still here', limit(30_000));
    await assert.rejects(overrun, (error: RegistryError) => error.code === 'crate-check-timeout');
    assert.equal(await next, 300);
    assert.equal(await last, 'still here');
  });

  it('stopping an overrunning task leaves the task running beside it alone', async () => {
    const pool = poolFor({ threads: 2 });
    const overrun = pool.run('spin', 20_000, limit(500));
    const beside = pool.run('spin', 2000, limit(30_000));
    const queued = pool.run('echo', 'queued', limit(30_000));
    await assert.rejects(overrun, (error: RegistryError) => error.code === 'crate-check-timeout');
    assert.equal(await beside, 2000);
    assert.equal(await queued, 'queued');
  });
});

describe('CPU pool: bounds on waiting', () => {
  it('refuses a task beyond threads + queue, and takes new work once there is room', async () => {
    const pool = poolFor({ threads: 1, maxQueue: 2 });
    const accepted = [pool.run('spin', 300, limit(30_000)), pool.run('spin', 300, limit(30_000)), pool.run('spin', 300, limit(30_000))];
    assert.equal(pool.active, 3);
    await assert.rejects(pool.run('echo', 'one too many', limit(30_000)), (error) => (assertBusy(error), true));
    assert.deepEqual(await Promise.all(accepted), [300, 300, 300]);
    assert.equal(pool.active, 0);
    assert.equal(await pool.run('echo', 'room again', limit(30_000)), 'room again');
  });

  it('answers a task that waited too long for a thread with `unavailable`, not with its time limit', async () => {
    const pool = poolFor({ threads: 1, maxWaitMs: 200 });
    const long = pool.run('spin', 1500, limit(30_000));
    const waiting = pool.run('echo', 'waits', { timeoutMs: 100, onTimeout: tooSlow });
    await assert.rejects(waiting, (error) => (assertBusy(error), true));
    assert.equal(await long, 1500);
    assert.equal(pool.active, 0);
  });
});
