// The CPU pool runs tasks on worker threads, not on the caller's thread, and refuses work beyond
// its queue with a typed, retryable error.

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RegistryError } from '../../src/domain/errors.js';
import { CpuPool } from '../../src/services/cpu-pool.js';

describe('CPU pool', () => {
  const pool = new CpuPool({ threads: 1, maxQueue: 1, maxHeapMb: 64 });
  after(() => pool.close());
  const timeout = { timeoutMs: 30_000, onTimeout: () => new RegistryError('too-large', 'slow', 'took too long') };

  it('runs a task on a worker thread and returns its value', async () => {
    assert.equal(await pool.run('echo', 'hello', timeout), 'hello');
    assert.ok(pool.completed >= 1);
  });

  it('refuses a task beyond its queue with a retryable `unavailable`', async () => {
    const runs = Array.from({ length: 100 }, () => pool.run('echo', 'x', timeout));
    const results = await Promise.allSettled(runs);
    const refused = results.filter((r) => r.status === 'rejected');
    assert.ok(refused.length > 0, 'some tasks are refused when one thread and a queue of one are full');
    for (const r of refused) {
      const error = (r as PromiseRejectedResult).reason as RegistryError;
      assert.equal(error.kind, 'unavailable');
      assert.equal(error.code, 'server-busy');
      assert.ok(error.retryAfterSeconds! > 0);
    }
  });
});
