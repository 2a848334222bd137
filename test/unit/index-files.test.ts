// IndexFiles against a real SQLite store: a miss is one read of the stored file (the same bytes a
// full render of the versions gives), concurrent misses share one read, a read older than an
// invalidation never fills the cache, and a large file's gzip form is made off the loop.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { indexFileEtag } from '../../src/adapters/metadata/sql-index-files.js';
import { renderIndexFile } from '../../src/domain/index-line.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
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
  const dir = makeTempDir('cratekeeper-index-files-');

  async function publish(name: string, versions: number): Promise<void> {
    for (let i = 0; i < versions; i++) {
      const row = newVersion(name, `1.0.${i}`, publisherId);
      row.entry.deps = Array.from({ length: 10 }, (_, d) => dependency(`dependency-number-${d}`));
      await store.crates.publishVersion(row);
    }
  }

  /** Counts the store's reads of index files. */
  function counted(): { crates: MetadataDatabase['crates']; reads: () => number } {
    let reads = 0;
    const crates = Object.assign(Object.create(store.crates) as MetadataDatabase['crates'], {
      readIndexFile: async (lowerName: string) => {
        reads++;
        return store.crates.readIndexFile(lowerName);
      },
    });
    return { crates, reads: () => reads };
  }

  before(async () => {
    store = await openSqliteDatabase(join(dir, 'metadata.sqlite'));
    publisherId = (await store.users.createUser('alice', false)).id;
    await publish('small', 1);
    await publish('big', 20);
  });
  after(async () => {
    await store.close();
  });

  it('keeps a small cached file in memory of its own, not in a shared 8 KiB slab', async () => {
    const files = new IndexFiles(store.crates, 1024 * 1024, INLINE_MAX);
    const small = (await files.get('small'))!;
    assert.ok(small.body.length < 4096, "small enough for Node's buffer pool");
    assert.equal(small.body.buffer.byteLength, small.body.length, 'the body pins exactly its own bytes');
  });

  it('answers the stored file: the bytes a render of the versions gives, with their hash as ETag', async () => {
    const files = new IndexFiles(store.crates, 1024 * 1024, INLINE_MAX);
    for (const name of ['small', 'big']) {
      const file = (await files.get(name))!;
      assert.equal(file.body.toString(), renderIndexFile((await store.crates.listVersions(name))!));
      assert.equal(file.etag, indexFileEtag(file.body));
    }
    assert.equal((await files.get('big'))!.body.toString().trimEnd().split('\n').length, 20);
    assert.equal(await files.get('nope'), undefined);
  });

  it('shares one read among concurrent misses, then answers from the cache, "no such crate" too', async () => {
    const { crates, reads } = counted();
    const files = new IndexFiles(crates, 1024 * 1024, INLINE_MAX);
    const all = await Promise.all(Array.from({ length: 8 }, () => files.get('big')));
    assert.equal(reads(), 1);
    assert.ok(all.every((f) => f === all[0]));
    assert.equal(await files.get('big'), all[0]);
    assert.equal(await files.get('nope'), undefined);
    assert.equal(await files.get('nope'), undefined);
    assert.equal(reads(), 2);
    assert.deepEqual({ hits: files.hits, misses: files.misses }, { hits: 2, misses: 9 });
  });

  it('never caches a read that started before an invalidation, nor lets a later request join it', async () => {
    // The first read of the store waits for the test: it holds the file from before the write.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const gated = Object.assign(Object.create(store.crates) as MetadataDatabase['crates'], {
      readIndexFile: async (lowerName: string) => {
        const file = await store.crates.readIndexFile(lowerName);
        if (reads++ === 0) await gate;
        return file;
      },
    });
    const files = new IndexFiles(gated, 1024 * 1024, INLINE_MAX);
    const stale = files.get('big');
    await eventually(() => assert.equal(reads, 1));
    await store.crates.publishVersion(newVersion('big', '2.0.0', publisherId));
    files.invalidate('big');
    const fresh = (await files.get('big'))!;
    assert.match(fresh.body.toString(), /"vers":"2\.0\.0"/);
    release();
    assert.doesNotMatch((await stale)!.body.toString(), /"vers":"2\.0\.0"/, 'the older read answers only its own request');
    assert.equal(await files.get('big'), fresh, 'and does not replace the newer file in the cache');
  });

  it('compresses a large file that has no gzip form yet (a mirrored one) on libuv threads, for the next request', async () => {
    const files = new IndexFiles(store.crates, 1024 * 1024, INLINE_MAX);
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

  it('keeps gzip forms that hold exactly their own bytes, not the 16 KiB chunk zlib wrote them into', async () => {
    const files = new IndexFiles(store.crates, 1024 * 1024, INLINE_MAX);
    const small = { body: Buffer.from('{"name":"small"}\n'.repeat(100)), etag: '"s"' };
    const inline = files.gzipped(small)!;
    assert.ok(inline.length < 1024, 'the premise: a small result, which zlib leaves in a larger chunk');
    assert.equal(inline.buffer.byteLength, inline.length);
    const large = { body: Buffer.from('{"name":"large"}\n'.repeat(1000)), etag: '"l"' };
    files.gzipped(large);
    const offLoop = await eventually(() => {
      const g = files.gzipped(large);
      assert.ok(g);
      return g;
    });
    assert.equal(offLoop.buffer.byteLength, offLoop.length);
  });
});
