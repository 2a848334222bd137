// IndexFiles against a real SQLite store and CPU pool: small files render on the event loop, large
// ones on a worker thread (the same bytes either way), concurrent misses share one render, a render
// older than an invalidation never fills the cache, and a large file's gzip form is made off the loop.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { CpuPool } from '../../src/services/cpu-pool.js';
import { IndexFiles } from '../../src/services/index-files.js';
import { indexDependency, newVersion } from '../contract/repository-fixtures.js';
import { eventually } from '../support/eventually.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

/** A threshold small enough that a few versions with dependencies pass it. */
const INLINE_MAX = 2048;

const dependency = (name: string) => indexDependency(name, { req: '^1.0', features: ['std'] });

describe('IndexFiles', () => {
  let store: MetadataDatabase;
  let publisherId: number;
  const cpu = new CpuPool({ threads: 1, maxQueue: 16, maxHeapMb: 256 });
  const dir = makeTempDir('cratekeeper-index-files-');

  async function publish(name: string, versions: number): Promise<void> {
    for (let i = 0; i < versions; i++) {
      const row = newVersion(name, `1.0.${i}`, publisherId);
      row.entry.deps = Array.from({ length: 10 }, (_, d) => dependency(`dependency-number-${d}`));
      await store.crates.publishVersion(row);
    }
  }

  before(async () => {
    store = await openSqliteDatabase(join(dir, 'metadata.sqlite'));
    publisherId = (await store.users.createUser('alice', false)).id;
    await publish('small', 1);
    await publish('big', 20);
  });
  after(async () => {
    await cpu.close();
    await store.close();
  });

  it('keeps a small cached file in memory of its own, not in a shared 8 KiB slab', async () => {
    const files = new IndexFiles(store.crates, cpu, 1024 * 1024, INLINE_MAX);
    const small = (await files.get('small'))!;
    assert.ok(small.body.length < 4096, "small enough for Node's buffer pool");
    assert.equal(small.body.buffer.byteLength, small.body.length, 'the body pins exactly its own bytes');
  });

  it('renders a small file on the event loop and a large one on a worker thread, to the same bytes', async () => {
    const files = new IndexFiles(store.crates, cpu, 1024 * 1024, INLINE_MAX);
    const start = cpu.completed;
    const small = (await files.get('small'))!;
    assert.equal(cpu.completed, start, 'no thread hop for a small file');
    const big = (await files.get('big'))!;
    assert.equal(cpu.completed, start + 1, 'the large file went to the pool');
    assert.ok(big.body.length > INLINE_MAX);
    assert.equal(big.body.toString().trimEnd().split('\n').length, 20);

    const inline = new IndexFiles(store.crates, cpu, 1024 * 1024, Number.MAX_SAFE_INTEGER);
    const bigInline = (await inline.get('big'))!;
    assert.equal(cpu.completed, start + 1);
    assert.deepEqual(bigInline.body, big.body);
    assert.equal(bigInline.etag, big.etag);
    assert.ok(big.gzipped, 'the worker compressed it too');
    assert.deepEqual(gunzipSync(big.gzipped), big.body);
    assert.equal(files.gzipped(big), big.gzipped);
    assert.deepEqual(small.body, (await inline.get('small'))!.body);
  });

  it('shares one render among concurrent misses, then answers from the cache', async () => {
    const files = new IndexFiles(store.crates, cpu, 1024 * 1024, INLINE_MAX);
    const start = cpu.completed;
    const all = await Promise.all(Array.from({ length: 8 }, () => files.get('big')));
    assert.equal(cpu.completed, start + 1);
    assert.ok(all.every((f) => f === all[0]));
    assert.equal(await files.get('big'), all[0]);
    assert.equal(cpu.completed, start + 1);
    assert.deepEqual({ hits: files.hits, misses: files.misses }, { hits: 1, misses: 8 });
  });

  it('never caches a render that started before an invalidation, nor lets a later request join it', async () => {
    // The first read of the store waits for the test: it holds the rows from before the write.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const gated = Object.assign(Object.create(store.crates) as MetadataDatabase['crates'], {
      listVersionsJson: async (lowerName: string) => {
        const rows = await store.crates.listVersionsJson(lowerName);
        if (reads++ === 0) await gate;
        return rows;
      },
    });
    const files = new IndexFiles(gated, cpu, 1024 * 1024, INLINE_MAX);
    const stale = files.get('big');
    await eventually(() => assert.equal(reads, 1));
    await store.crates.publishVersion(newVersion('big', '2.0.0', publisherId));
    files.invalidate('big');
    const fresh = (await files.get('big'))!;
    assert.match(fresh.body.toString(), /"vers":"2\.0\.0"/);
    release();
    assert.doesNotMatch((await stale)!.body.toString(), /"vers":"2\.0\.0"/, 'the older render answers only its own request');
    assert.equal(await files.get('big'), fresh, 'and does not replace the newer file in the cache');
  });

  it('compresses a large file that has no gzip form yet (a mirrored one) on libuv threads, for the next request', async () => {
    const files = new IndexFiles(store.crates, cpu, 1024 * 1024, INLINE_MAX);
    const body = Buffer.from('{"name":"mirrored"}\n'.repeat(1000));
    const mirrored = { body, etag: '"x"' };
    assert.equal(files.gzipped(mirrored), undefined, 'this request gets the plain bytes');
    const gzipped = await eventually(() => {
      const g = files.gzipped(mirrored);
      assert.ok(g);
      return g;
    });
    assert.deepEqual(gunzipSync(gzipped), body);
    const small = { body: Buffer.from('x'.repeat(INLINE_MAX)), etag: '"y"' };
    assert.ok(files.gzipped(small), 'a small file is compressed at once');
  });
});
