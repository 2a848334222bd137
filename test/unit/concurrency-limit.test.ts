// The slots in front of publishes: at most `total` running and `perKey` for one user; others wait
// their turn (several from one user too, as from a CI matrix), and only a full waiting room or
// a long wait is refused, with a 503 that says why.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/domain/errors.js';
import { ConcurrencyLimit } from '../../src/lib/concurrency-limit.js';

const settle = () => new Promise((resolve) => setImmediate(resolve));

function limit(overrides: Partial<ConstructorParameters<typeof ConcurrencyLimit>[0]> = {}): ConcurrencyLimit {
  return new ConcurrencyLimit({
    total: 4,
    perKey: 2,
    maxWaiting: 64,
    maxWaitingPerKey: 16,
    maxWaitMs: 60_000,
    what: 'publishes',
    ...overrides,
  });
}

describe('concurrency limit', () => {
  it("runs two of one user at once; the user's other six wait and all run in turn", async () => {
    const slots = limit();
    const granted: number[] = [];
    const releases: (() => void)[] = [];
    const all = Array.from({ length: 8 }, (_, i) =>
      slots.acquire('user:1').then((release) => {
        granted.push(i);
        releases.push(release);
      }),
    );
    await settle();
    assert.deepEqual(granted, [0, 1]);
    assert.equal(slots.active, 2);
    while (granted.length < 8) {
      releases.shift()!();
      await settle();
      assert.ok(slots.active <= 2, 'never more than perKey for one user');
    }
    await Promise.all(all);
    assert.deepEqual(granted, [0, 1, 2, 3, 4, 5, 6, 7], 'in the order they came');
  });

  it('lets another user start while one user waits for their own slots', async () => {
    const slots = limit();
    await slots.acquire('user:1');
    await slots.acquire('user:1');
    let thirdOfOne = false;
    void slots.acquire('user:1').then(() => (thirdOfOne = true));
    await slots.acquire('user:2');
    await settle();
    assert.equal(thirdOfOne, false);
    assert.equal(slots.active, 3);
  });

  it('refuses one user beyond their share of the waiting room, and says so', async () => {
    const slots = limit({ maxWaitingPerKey: 3 });
    for (let i = 0; i < 5; i++) void slots.acquire('user:1');
    await assert.rejects(slots.acquire('user:1'), (error: unknown) => {
      assert.ok(error instanceof RegistryError);
      assert.equal(error.kind, 'unavailable');
      assert.match(error.message, /you have 3 publishes waiting already; try again in 5 s/);
      return true;
    });
    // Someone else still gets in.
    await slots.acquire('user:2');
  });

  it('refuses when the whole waiting room is full', async () => {
    const slots = limit({ total: 1, maxWaiting: 2 });
    await slots.acquire('user:1');
    void slots.acquire('user:2');
    void slots.acquire('user:3');
    await assert.rejects(slots.acquire('user:4'), /the server has too many publishes in progress/);
  });

  it('gives up a wait after maxWaitMs and leaves the queue as it was', async () => {
    const slots = limit({ total: 1, maxWaitMs: 20 });
    const release = await slots.acquire('user:1');
    // The limit's own timer does not keep a process alive; this sleep keeps the test's.
    const keepAlive = new Promise((resolve) => setTimeout(resolve, 100));
    await assert.rejects(slots.acquire('user:2'), /too many publishes in progress/);
    await keepAlive;
    release();
    release(); // a second call changes nothing
    assert.equal(slots.active, 0);
    await slots.acquire('user:3');
    assert.equal(slots.active, 1);
  });
});
