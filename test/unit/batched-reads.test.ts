// BatchedReads (src/lib/batched-reads.ts): a read goes alone and at once while the store keeps up;
// while `maxInFlight` batches run, the keys asked for wait and go together, up to `maxBatch`, in
// the order they came; every caller of a key gets its answer; a failed batch fails its own callers.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchedReads } from '../../src/lib/batched-reads.js';

/** A store whose reads the test answers one by one: each answers `value:<key>`, except `missing`. */
function controlledStore() {
  const calls: { keys: string[]; answer(): void; fail(error: Error): void }[] = [];
  const readMany = (keys: string[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      calls.push({
        keys,
        answer: () => resolve(new Map(keys.filter((k) => k !== 'missing').map((k) => [k, `value:${k}`]))),
        fail: reject,
      });
    });
  return { calls, readMany };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('BatchedReads', () => {
  it('sends a read at once and alone while fewer than maxInFlight are under way', async () => {
    const store = controlledStore();
    const reads = new BatchedReads(store.readMany, 2, 10);
    const a = reads.read('a');
    const b = reads.read('b');
    assert.deepEqual(
      store.calls.map((c) => c.keys),
      [['a'], ['b']],
    );
    store.calls.forEach((c) => c.answer());
    assert.deepEqual(await Promise.all([a, b]), ['value:a', 'value:b']);
  });

  it('gathers the keys asked for while maxInFlight batches run, up to maxBatch, in arrival order', async () => {
    const store = controlledStore();
    const reads = new BatchedReads(store.readMany, 1, 3);
    const first = reads.read('a');
    const later = ['b', 'c', 'b', 'missing', 'd', 'e'].map((key) => reads.read(key));
    assert.equal(store.calls.length, 1, 'the others wait while one batch runs');
    store.calls[0]!.answer();
    await settle();
    assert.deepEqual(store.calls[1]!.keys, ['b', 'c', 'missing'], 'one key once, however many ask');
    store.calls[1]!.answer();
    await settle();
    assert.deepEqual(store.calls[2]!.keys, ['d', 'e']);
    store.calls[2]!.answer();
    assert.equal(await first, 'value:a');
    assert.deepEqual(await Promise.all(later), ['value:b', 'value:c', 'value:b', undefined, 'value:d', 'value:e']);
    assert.equal(store.calls.length, 3);
  });

  it('fails the callers of a failed batch only, and goes on reading', async () => {
    const store = controlledStore();
    const reads = new BatchedReads(store.readMany, 1, 10);
    const failed = reads.read('a');
    const next = reads.read('b');
    store.calls[0]!.fail(new Error('connection lost'));
    await assert.rejects(failed, /connection lost/);
    await settle();
    store.calls[1]!.answer();
    assert.equal(await next, 'value:b');
  });

  it('is drained once nothing waits or runs', async () => {
    const store = controlledStore();
    const reads = new BatchedReads(store.readMany, 1, 10);
    await reads.drained();
    void reads.read('a');
    void reads.read('b');
    let drained = false;
    const done = reads.drained().then(() => (drained = true));
    store.calls[0]!.answer();
    await settle();
    assert.equal(drained, false, 'b still runs');
    store.calls[1]!.answer();
    await done;
  });
});
