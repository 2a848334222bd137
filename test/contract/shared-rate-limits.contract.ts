// Rate limits shared through the database (services/shared-rate-limiter.ts over
// adapters/metadata/sql-rate-counts.ts), with an injected clock: two limiters on one database stand
// for two replicas. The sliding window holds across them and across a minute boundary, Retry-After
// comes from the shared counts, and a flood costs one batched write. Run against SQLite and
// PostgreSQL by the shared-rate-limits-*.test.ts files.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { SqlRateCounts } from '../../src/adapters/metadata/sql-rate-counts.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { RegistryError } from '../../src/domain/errors.js';
import { SharedRateLimiter, SharedRateLimits } from '../../src/services/shared-rate-limiter.js';
import { freshPerTest } from './fresh-per-test.js';

export interface OpenedDatabase {
  db: Kysely<Database>;
  close(): Promise<void>;
}

class TestClock {
  constructor(public ms: number) {}
  readonly now = () => this.ms;
}

function retryAfterOf(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof RegistryError && error.kind === 'rate-limited', String(error));
    return error.retryAfterSeconds;
  }
}

export function sharedRateLimitsContract(name: string, open: () => Promise<OpenedDatabase>): void {
  describe(`shared rate limits: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    /** Two "replicas" of one limiter on a fresh database, sharing a clock. */
    async function replicas(limit: number, startMs: number) {
      const database = await fresh();
      const clock = new TestClock(startMs);
      const counts = new SqlRateCounts(database.db);
      const errors: unknown[] = [];
      const make = () => new SharedRateLimiter('publish', limit, 'publishes by this user', counts, (e) => errors.push(e), clock.now);
      const a = make();
      const b = make();
      const refreshAll = async () => {
        await new SharedRateLimits([a], counts, (e) => errors.push(e), clock.now).refresh();
        await new SharedRateLimits([b], counts, (e) => errors.push(e), clock.now).refresh();
      };
      return { a, b, clock, refreshAll, errors, db: database.db };
    }

    it('events on one replica refuse the same key on another, with a Retry-After from the shared counts', async () => {
      const { a, b, refreshAll, errors } = await replicas(3, 1_000_000_020_000);
      for (let i = 0; i < 3; i++) a.take('user:1');
      const local = retryAfterOf(() => a.take('user:1'));
      assert.ok(local !== undefined);
      await refreshAll();
      assert.equal(
        retryAfterOf(() => b.take('user:1')),
        local,
      );
      assert.equal(
        retryAfterOf(() => b.take('user:2')),
        undefined,
        'another key is not affected',
      );
      assert.deepEqual(errors, []);
    });

    it('no edge: the limit used at the end of a minute on one replica is not available again on another at the start of the next', async () => {
      const minute = 28_333_334; // any minute
      const { a, b, clock, refreshAll, errors } = await replicas(5, minute * 60_000 + 59_900);
      for (let i = 0; i < 5; i++) a.take('user:1');
      await refreshAll();
      clock.ms = (minute + 1) * 60_000 + 100;
      await refreshAll();
      let passed = 0;
      for (let i = 0; i < 5; i++) if (retryAfterOf(() => b.take('user:1')) === undefined) passed++;
      assert.equal(passed, 0);
      // It slides: a fifth of the next minute later there is room for one again (5 · 4/5 = 4 < 5).
      clock.ms = (minute + 1) * 60_000 + 12_000;
      await refreshAll();
      assert.equal(
        retryAfterOf(() => b.take('user:1')),
        undefined,
      );
      assert.notEqual(
        retryAfterOf(() => b.take('user:1')),
        undefined,
      );
      assert.deepEqual(errors, []);
    });

    it('a flood of failures costs one batched row, counted up to the limit, written at the refresh', async () => {
      const { a, b, refreshAll, errors, db } = await replicas(30, 1_000_000_000_000);
      for (let i = 0; i < 10_000; i++) a.record('10.0.0.1');
      a.record('10.0.0.2');
      const before = await db.selectFrom('rate_limit_counts').selectAll().execute();
      assert.deepEqual(before, [], 'events were written one by one, before the batch');
      await refreshAll();
      const rows = await db.selectFrom('rate_limit_counts').select(['key', 'hits']).orderBy('key').execute();
      assert.deepEqual(
        rows.map((r) => ({ key: r.key, hits: Number(r.hits) })),
        [
          { key: '10.0.0.1', hits: 30 },
          { key: '10.0.0.2', hits: 1 },
        ],
      );
      assert.notEqual(
        retryAfterOf(() => b.assertNotExceeded('10.0.0.1')),
        undefined,
      );
      assert.equal(
        retryAfterOf(() => b.assertNotExceeded('10.0.0.2')),
        undefined,
      );
      assert.deepEqual(errors, []);
    });

    it('concurrent batches from several replicas add up; old minutes are pruned, the previous one kept', async () => {
      const { a, b, clock, errors, db } = await replicas(1_000, 1_000_000_000_000);
      const counts = new SqlRateCounts(db);
      for (let i = 0; i < 7; i++) a.take('user:1');
      for (let i = 0; i < 5; i++) b.take('user:1');
      await Promise.all([a.flush(), b.flush()]);
      const hits = async () => (await db.selectFrom('rate_limit_counts').select('hits').execute()).map((r) => Number(r.hits));
      assert.deepEqual(await hits(), [12]);
      clock.ms += 60_000;
      const limits = new SharedRateLimits([a, b], counts, (e) => errors.push(e), clock.now);
      await limits.refresh();
      assert.deepEqual(await hits(), [12], 'the previous minute is still needed by the sliding window');
      clock.ms += 60_000;
      await limits.refresh();
      assert.deepEqual(await hits(), []);
      assert.deepEqual(errors, []);
    });
  });
}
