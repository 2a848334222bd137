// The shared rate limiter against SQLite, for what the contract test (test/contract/shared-rate-limits
// .contract.ts) leaves out: a replica adds its own unwritten events to the shared counts (and stops
// once they are written, so nothing counts twice), limiters of different names do not mix, a failed
// write or read is reported and changes nothing else, stop() writes what is collected, and the
// number of keys collected between writes is bounded.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqlRateCounts } from '../../src/adapters/metadata/sql-rate-counts.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import type { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import { RegistryError } from '../../src/domain/errors.js';
import type { RateCounts } from '../../src/ports/rate-counts.js';
import { SharedRateLimiter, SharedRateLimits } from '../../src/services/shared-rate-limiter.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const MINUTE = 28_000_000; // any minute
let clock = 0;
const now = () => clock;

function allowed(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    assert.ok(error instanceof RegistryError && error.kind === 'rate-limited', String(error));
    return false;
  }
}

describe('SharedRateLimiter (SQLite)', () => {
  let store: SqlMetadataDatabase;
  let counts: SqlRateCounts;
  let errors: unknown[];
  const onError = (e: unknown) => errors.push(e);

  before(async () => {
    store = await openSqliteDatabase(join(makeTempDir('cratekeeper-shared-limiter-'), 'metadata.sqlite'));
  });
  after(() => store.close());

  async function fresh(): Promise<void> {
    await store.db.deleteFrom('rate_limit_counts').execute();
    counts = new SqlRateCounts(store.db);
    errors = [];
    clock = MINUTE * 60_000;
  }
  const limiter = (name: string, limit: number, through: RateCounts = counts) =>
    new SharedRateLimiter(name, limit, 'tests', through, onError, now);
  const storedHits = async () =>
    (await store.db.selectFrom('rate_limit_counts').select(['limiter', 'key', 'hits']).orderBy('key').execute()).map(
      (r) => `${r.limiter}/${r.key}=${Number(r.hits)}`,
    );

  it('adds its own unwritten events to the shared counts, and counts them once after they are written', async () => {
    await fresh();
    const a = limiter('publish', 4);
    const b = limiter('publish', 4);
    for (let i = 0; i < 4; i++) a.take('user:1');
    await a.refresh();
    // Half the next minute later the window holds 4 · 1/2 = 2 of A's events: room for 2 more.
    clock = (MINUTE + 1) * 60_000 + 30_000;
    await b.refresh();
    assert.equal(
      allowed(() => b.take('user:1')),
      true,
    );
    assert.equal(
      allowed(() => b.take('user:1')),
      true,
    );
    assert.equal(
      allowed(() => b.take('user:1')),
      false,
      "B's own events, not written yet, count with the shared ones",
    );
    // Once written, B's events are in the shared counts and no longer also pending.
    clock = (MINUTE + 1) * 60_000 + 45_000; // 4 · 1/4 + 2 = 3: room for exactly one
    await b.refresh();
    assert.equal(
      allowed(() => b.take('user:1')),
      true,
      'written events were counted twice',
    );
    assert.equal(
      allowed(() => b.take('user:1')),
      false,
    );
    assert.deepEqual(errors, []);
  });

  it('limiters of different names do not share counts', async () => {
    await fresh();
    const publish = limiter('publish', 2);
    const failedAuth = limiter('failed-auth', 2);
    publish.take('k');
    publish.take('k');
    await publish.refresh();
    await failedAuth.refresh();
    assert.equal(
      allowed(() => failedAuth.take('k')),
      true,
    );
    assert.equal(
      allowed(() => limiter('publish', 2).take('k')),
      true,
      'a new limiter knows nothing before its refresh',
    );
    const other = limiter('publish', 2);
    await other.refresh();
    assert.equal(
      allowed(() => other.take('k')),
      false,
    );
  });

  it('a failed write is reported, the events still count here, and the shared read still happens', async () => {
    await fresh();
    const a = limiter('publish', 2);
    a.take('busy');
    a.take('busy');
    await a.flush();
    const failingAdd: RateCounts = {
      add: () => Promise.reject(new Error('write failed')),
      busyKeys: (...args) => counts.busyKeys(...args),
      prune: (w) => counts.prune(w),
    };
    const b = limiter('publish', 2, failingAdd);
    b.take('mine');
    b.take('mine');
    await b.refresh();
    assert.match(String(errors[0]), /write failed/);
    assert.equal(
      allowed(() => b.take('mine')),
      false,
      'counted locally',
    );
    assert.equal(
      allowed(() => b.take('busy')),
      false,
      'learned from the shared counts',
    );
  });

  it('SharedRateLimits: one limiter failing to refresh is reported and does not stop the others', async () => {
    await fresh();
    const failingRead: RateCounts = {
      add: (...args) => counts.add(...args),
      busyKeys: () => Promise.reject(new Error('read failed')),
      prune: (w) => counts.prune(w),
    };
    const broken = limiter('broken', 1, failingRead);
    const a = limiter('publish', 1);
    a.take('k');
    const b = limiter('publish', 1);
    await new SharedRateLimits([broken, a, b], counts, onError, now).refresh();
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]), /read failed/);
    assert.equal(
      allowed(() => b.take('k')),
      false,
      'B refreshed after the failing limiter',
    );
  });

  it('SharedRateLimits.stop writes what is still collected', async () => {
    await fresh();
    const a = limiter('publish', 10);
    const limits = new SharedRateLimits([a], counts, onError, now);
    a.take('x');
    a.record('y');
    await limits.stop();
    assert.deepEqual(await storedHits(), ['publish/x=1', 'publish/y=1']);
    assert.deepEqual(errors, []);
  });

  it('collects at most 10 000 keys between writes; further keys count only locally', async () => {
    await fresh();
    const a = limiter('failed-auth', 1);
    for (let i = 0; i < 10_001; i++) a.record(`10.${i}`);
    await a.flush();
    const written = await store.db
      .selectFrom('rate_limit_counts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(written.n), 10_000);
    assert.equal(
      allowed(() => a.assertNotExceeded('10.10000')),
      false,
      'the key past the bound still counts here',
    );
  });
});
