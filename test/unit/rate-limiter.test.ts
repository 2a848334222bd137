// The in-memory rate limiter with an injected clock: no window edge lets twice the limit through,
// the window slides (about one event every 60/limit seconds once the limit is used), the
// Retry-After of a refusal is exactly when the next event fits, and a recorded event can be taken back.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { RegistryError } from '../../src/domain/errors.js';
import { RateLimiter } from '../../src/lib/rate-limiter.js';

class TestClock {
  constructor(public ms = 0) {}
  readonly now = () => this.ms;
}

/** How many of `n` takes pass. */
function takes(limiter: RateLimiter, key: string, n: number): number {
  let passed = 0;
  for (let i = 0; i < n; i++) {
    try {
      limiter.take(key);
      passed++;
    } catch (error) {
      assert.ok(error instanceof RegistryError && error.kind === 'rate-limited', String(error));
    }
  }
  return passed;
}

function retryAfterOf(fn: () => void): number {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof RegistryError && error.kind === 'rate-limited');
    return error.retryAfterSeconds!;
  }
  return assert.fail('expected a refusal');
}

describe('rate limiter (in memory)', () => {
  it('the limit at the end of one window and again at the start of the next do not all pass', () => {
    for (const start of [0, 1, 30_000, 59_999, 123_456, 1_700_000_000_000]) {
      const clock = new TestClock(start);
      const limiter = new RateLimiter(5, 'tests', clock.now);
      // One event opens a window; the rest of the limit comes just before a minute has gone by.
      assert.equal(takes(limiter, 'k', 1), 1);
      clock.ms = start + 59_900;
      assert.equal(takes(limiter, 'k', 4), 4);
      clock.ms = start + 60_100;
      // Only the first event is more than a minute old: at most its place is free.
      assert.ok(takes(limiter, 'k', 5) <= 1, `from ${start}: a second burst passed right after the first`);
    }
  });

  it('property: once the limit is used, the next burst gets at most the share of a minute that has gone by since', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 13 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1_000, max: 60_000 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (start, limit, elapsed, spreadSeed) => {
          const spread = spreadSeed % elapsed;
          const clock = new TestClock(start);
          const limiter = new RateLimiter(limit, 'tests', clock.now);
          for (let i = 0; i < limit; i++) {
            clock.ms = start + Math.floor((spread * i) / limit);
            assert.equal(takes(limiter, 'k', 1), 1);
          }
          clock.ms = start + elapsed;
          const passed = takes(limiter, 'k', limit);
          assert.ok(
            passed < (limit * elapsed) / 60_000 || passed === 0,
            `${passed} of ${limit} passed ${elapsed} ms after the first event`,
          );
        },
      ),
    );
  });

  it('slides: once the limit is used, one more event fits every 60/limit seconds', () => {
    const clock = new TestClock(0);
    const limiter = new RateLimiter(6, 'tests', clock.now);
    assert.equal(takes(limiter, 'k', 6), 6);
    clock.ms = 60_000; // a fixed window would start over here with 6 more
    assert.equal(takes(limiter, 'k', 6), 0);
    for (const at of [70_000, 80_000, 90_000, 100_000]) {
      clock.ms = at - 1;
      assert.equal(takes(limiter, 'k', 1), 0, `before ${at}`);
      clock.ms = at;
      assert.equal(takes(limiter, 'k', 6), 1, `at ${at}`);
    }
  });

  it('Retry-After says exactly when the next event fits', () => {
    const clock = new TestClock(0);
    const limiter = new RateLimiter(3, 'tests', clock.now);
    takes(limiter, 'k', 3);
    clock.ms = 1_000;
    // This minute is full: wait for the next one, then until a third of it has gone (3·(1 - 1/3) = 2 leaves room for one).
    assert.equal(
      retryAfterOf(() => limiter.take('k')),
      79,
    );
    clock.ms = 79_999;
    assert.equal(
      retryAfterOf(() => limiter.take('k')),
      1,
    );
    clock.ms = 80_000;
    limiter.take('k');
  });

  it('property: after waiting its Retry-After an event fits, and a second earlier it does not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10 ** 13 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 90_000 }), { minLength: 1, maxLength: 60 }),
        (start, limit, gaps) => {
          const clock = new TestClock(start);
          const limiter = new RateLimiter(limit, 'tests', clock.now);
          for (const gap of gaps) {
            clock.ms += gap;
            limiter.record('k');
          }
          let refusal: RegistryError | undefined;
          try {
            limiter.assertNotExceeded('k');
            return;
          } catch (error) {
            refusal = error as RegistryError;
          }
          const seconds = refusal.retryAfterSeconds!;
          assert.equal(refusal.message, `too many tests; try again in ${seconds} s`);
          const at = clock.ms;
          if (seconds > 1) {
            clock.ms = at + (seconds - 1) * 1000;
            assert.throws(() => limiter.assertNotExceeded('k'), `still refused ${seconds - 1} s later`);
          }
          clock.ms = at + seconds * 1000;
          limiter.assertNotExceeded('k');
        },
      ),
    );
  });

  it('release takes back an event recorded earlier, also after the minute has turned', () => {
    const clock = new TestClock(59_000);
    const limiter = new RateLimiter(1, 'tests', clock.now);
    const at = limiter.record('k');
    assert.throws(() => limiter.assertNotExceeded('k'));
    limiter.release('k', at);
    limiter.assertNotExceeded('k');
    const again = limiter.record('k');
    clock.ms = 61_000; // the event is now in the previous minute
    assert.throws(() => limiter.assertNotExceeded('k'));
    limiter.release('k', again);
    limiter.assertNotExceeded('k');
  });

  it('keys are independent; refused takes count nothing; record counts without refusing', () => {
    const clock = new TestClock(1_000_000);
    const limiter = new RateLimiter(2, 'tests', clock.now);
    assert.equal(takes(limiter, 'a', 1), 1);
    assert.equal(takes(limiter, 'a', 1), 1);
    const wait = retryAfterOf(() => limiter.take('a'));
    assert.equal(takes(limiter, 'a', 100), 0);
    assert.equal(
      retryAfterOf(() => limiter.take('a')),
      wait,
      'refused takes made the wait longer',
    );
    assert.equal(takes(limiter, 'b', 2), 2);
    for (let i = 0; i < 10; i++) limiter.record('c');
    assert.throws(() => limiter.assertNotExceeded('c'), /^RegistryError: too many tests; try again in \d+ s$/);
    assert.ok(retryAfterOf(() => limiter.assertNotExceeded('c')) > wait, 'recorded failures count');
  });
});
