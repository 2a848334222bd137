// The gate in front of token lookups: at most `perKey` running for one address and `total` in all,
// everything else waits (nothing is refused), and waiting addresses take turns.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LookupGate } from '../../src/auth/lookup-gate.js';

/** Lookups that finish only when the test says so, in the order they started. */
class ManualLookups {
  readonly started: string[] = [];
  private readonly finishers: (() => void)[] = [];
  running = 0;
  maxRunning = 0;

  lookup(label: string): () => Promise<string> {
    return () =>
      new Promise<string>((resolve) => {
        this.started.push(label);
        this.running++;
        this.maxRunning = Math.max(this.maxRunning, this.running);
        this.finishers.push(() => {
          this.running--;
          resolve(label);
        });
      });
  }

  /** Finishes the oldest running lookup and lets the gate start the next. */
  async finishOne(): Promise<void> {
    const finish = this.finishers.shift();
    assert.ok(finish, 'no lookup is running');
    finish();
    await settle();
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('lookup gate', () => {
  it('runs at most perKey lookups for one address; the others wait and all finish', async () => {
    const gate = new LookupGate(2, 4);
    const lookups = new ManualLookups();
    const results = Array.from({ length: 10 }, (_, i) => gate.run('10.0.0.1', lookups.lookup(`a${i}`)));
    await settle();
    assert.equal(lookups.running, 2);
    assert.deepEqual(gate.load, { running: 2, waiting: 8 });
    for (let i = 0; i < 10; i++) await lookups.finishOne();
    assert.deepEqual(
      await Promise.all(results),
      Array.from({ length: 10 }, (_, i) => `a${i}`),
    );
    assert.equal(lookups.maxRunning, 2);
    assert.deepEqual(gate.load, { running: 0, waiting: 0 });
  });

  it('runs at most `total` in all, and addresses take turns: a flood does not make another address wait behind it', async () => {
    const gate = new LookupGate(2, 3);
    const lookups = new ManualLookups();
    const flood = Array.from({ length: 50 }, (_, i) => gate.run('attacker', lookups.lookup(`x${i}`)));
    const other = Array.from({ length: 50 }, (_, i) => gate.run('other-attacker', lookups.lookup(`y${i}`)));
    await settle();
    assert.equal(lookups.running, 3);
    const valid = gate.run('colleague', lookups.lookup('valid'));
    let done = false;
    void valid.then(() => (done = true));
    // Each finished lookup gives the next waiting address its turn: the colleague's comes within one round.
    for (let i = 0; i < 3 && !lookups.started.includes('valid'); i++) await lookups.finishOne();
    assert.ok(lookups.started.includes('valid'), `the colleague waited behind the flood: ${lookups.started.join(' ')}`);
    while (!done) await lookups.finishOne();
    assert.equal(await valid, 'valid');
    while (lookups.running > 0) await lookups.finishOne();
    await Promise.all([...flood, ...other]);
    assert.equal(lookups.maxRunning, 3);
    assert.equal(lookups.started.length, 101);
  });

  it('a failing lookup frees its place', async () => {
    const gate = new LookupGate(1, 1);
    await assert.rejects(
      gate.run('a', () => Promise.reject(new Error('database down'))),
      /database down/,
    );
    assert.equal(await gate.run('a', async () => 'next'), 'next');
    assert.deepEqual(gate.load, { running: 0, waiting: 0 });
  });
});
