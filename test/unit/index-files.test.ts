// IndexFiles against a real SQLite store: a miss is one read of the stored file in the form asked
// for (the same bytes a full render of the versions gives, or their stored gzip form), concurrent
// misses share one read, a read older than an invalidation never fills the cache, and a large
// mirrored file's gzip form is made off the loop.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { indexFileEtag } from '../../src/adapters/metadata/sql-index-files.js';
import { indexFileBody, MIN_GZIP_BYTES, type IndexFileForm } from '../../src/domain/index-file.js';
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
      readIndexFile: async (lowerName: string, form: IndexFileForm) => {
        reads++;
        return store.crates.readIndexFile(lowerName, form);
      },
    });
    return { crates, reads: () => reads };
  }

  before(async () => {
    store = await openSqliteDatabase(join(dir, 'metadata.sqlite'));
    publisherId = (await store.users.createUser('alice', false)).id;
    await publish('small', 1);
    await publish('big', 20);
    await store.crates.publishVersion(newVersion('tiny', '1.0.0', publisherId));
  });
  after(async () => {
    await store.close();
  });

  it('keeps a small cached file in memory of its own, not in a shared 8 KiB slab', async () => {
    const files = new IndexFiles(store.crates, 1024 * 1024, INLINE_MAX);
    const small = (await files.get('small', 'identity'))!.body!;
    assert.ok(small.length < 4096, "small enough for Node's buffer pool");
    assert.equal(small.buffer.byteLength, small.length, 'the body pins exactly its own bytes');
    const gzipped = (await files.get('big', 'gzip'))!.gzipped!;
    assert.ok(gzipped.length < 4096, "small enough for Node's buffer pool");
    assert.equal(gzipped.buffer.byteLength, gzipped.length, 'the gzip form pins exactly its own bytes');
  });

  it('answers the stored file: the bytes a render of the versions gives, with their hash as ETag', async () => {
    const files = new IndexFiles(store.crates, 1024 * 1024, INLINE_MAX);
    for (const name of ['small', 'big']) {
      const file = (await files.get(name, 'identity'))!;
      assert.equal(file.body!.toString(), renderIndexFile((await store.crates.listVersions(name))!));
      assert.equal(file.etag, indexFileEtag(file.body!));
    }
    assert.equal((await files.get('big', 'identity'))!.body!.toString().trimEnd().split('\n').length, 20);
    assert.equal(await files.get('nope', 'identity'), undefined);
  });

  it('answers the gzip form alone, as stored, and keeps each form under its own entry', async () => {
    const { crates, reads } = counted();
    const files = new IndexFiles(crates, 1024 * 1024, INLINE_MAX);
    const plain = (await files.get('big', 'identity'))!;
    const compressed = (await files.get('big', 'gzip'))!;
    assert.equal(compressed.body, undefined, 'the bytes are not kept beside the gzip form');
    assert.equal(compressed.etag, plain.etag);
    assert.deepEqual(gunzipSync(compressed.gzipped!), plain.body);
    assert.equal(files.gzipped(compressed), compressed.gzipped, 'sent as stored, not compressed again');
    assert.deepEqual(indexFileBody(compressed), plain.body);
    assert.equal(await files.get('big', 'identity'), plain);
    assert.equal(await files.get('big', 'gzip'), compressed);
    assert.equal(reads(), 2);
    const small = (await files.get('tiny', 'gzip'))!;
    assert.equal(small.gzipped, undefined, 'a file under 1 KiB has no gzip form: its bytes are answered');
    assert.ok(small.body!.length < MIN_GZIP_BYTES);
    assert.equal(files.gzipped(small), undefined);
    files.invalidate('big');
    await files.get('big', 'identity');
    await files.get('big', 'gzip');
    assert.equal(reads(), 5, 'an invalidation drops both forms');
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
      readIndexFile: async (lowerName: string, form: IndexFileForm) => {
        const file = await store.crates.readIndexFile(lowerName, form);
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
    assert.match(indexFileBody(fresh).toString(), /"vers":"2\.0\.0"/);
    release();
    assert.doesNotMatch(indexFileBody((await stale)!).toString(), /"vers":"2\.0\.0"/, 'the older read answers only its own request');
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
