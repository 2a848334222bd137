// The BlobStore contract: one suite that every blob adapter (disk, S3) must pass unchanged.
// Each run uses keys under a random folder, so it can share a bucket or folder with other runs.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { BlobStore } from '../../src/ports/blob-store.js';

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Defines a suite named `name` that runs against the store returned by `open()`. */
export function blobStoreContract(name: string, open: () => Promise<BlobStore>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let store: BlobStore;
    const run = `run-${randomBytes(6).toString('hex')}`;
    const crateKey = (crate: string, version: string, bytes: Buffer) =>
      `${run}/crates/${crate}/${version}/${createHash('sha256').update(bytes).digest('hex')}.crate`;

    async function assertStored(key: string, expected: Buffer): Promise<void> {
      const blob = await store.open(key);
      assert.ok(blob, `no blob at ${key}`);
      assert.equal(blob.size, expected.length);
      const actual = await readAll(blob.stream);
      assert.equal(actual.length, expected.length);
      assert.ok(actual.equals(expected), `the bytes at ${key} differ from what was put`);
      if (!store.openFile) return;
      // A store of local files opens the same bytes as a file, for HTTP/2's respondWithFD.
      const file = await store.openFile(key);
      assert.ok(file, `no file at ${key}`);
      try {
        assert.equal(file.size, expected.length);
        assert.ok((await file.handle.readFile()).equals(expected), `the file at ${key} differs from what was put`);
      } finally {
        await file.handle.close();
      }
    }

    before(async () => {
      store = await open();
    });
    after(async () => {
      await store?.close();
    });

    it('returns the same bytes and size: empty, small, ~5 MiB binary', async () => {
      for (const bytes of [Buffer.alloc(0), Buffer.from('hello, crate\n'), randomBytes(5 * 1024 * 1024 + 17)]) {
        const key = crateKey('sizes', `${bytes.length}.0.0`, bytes);
        await store.put(key, bytes);
        await assertStored(key, bytes);
      }
    });

    it('accepts the same bytes put twice under the same key', async () => {
      const bytes = randomBytes(4096);
      const key = crateKey('twice', '1.0.0', bytes);
      await store.put(key, bytes);
      await store.put(key, bytes);
      await assertStored(key, bytes);
    });

    it('answers undefined for a key never put', async () => {
      assert.equal(await store.open(`${run}/crates/missing/0.0.0/none.crate`), undefined);
      assert.equal(await store.openFile?.(`${run}/crates/missing/0.0.0/none.crate`), undefined);
    });

    it('forgets a deleted blob', async () => {
      const bytes = randomBytes(100);
      const key = crateKey('deleted', '1.0.0', bytes);
      await store.put(key, bytes);
      await store.delete(key);
      assert.equal(await store.open(key), undefined);
      await store.delete(key);
    });

    it('deletes a missing key without error', async () => {
      await store.delete(`${run}/crates/never/1.0.0/none.crate`);
    });

    it('keeps `+` in keys distinct from a space, in nested folders', async () => {
      const bytes = Buffer.from('build metadata');
      const key = crateKey('serde', '1.0.0+build.5', bytes);
      await store.put(key, bytes);
      await assertStored(key, bytes);
      assert.equal(await store.open(key.replace('+', ' ')), undefined, 'a `+` in the key was stored as a space');
      const deep = `${run}/a/b/c/d/e/f+g/${createHash('sha256').update(bytes).digest('hex')}.crate`;
      await store.put(deep, bytes);
      await assertStored(deep, bytes);
    });

    it('stores concurrent puts of different keys', async () => {
      const blobs = Array.from({ length: 12 }, (_, i) => randomBytes(1000 + i * 5000));
      const keys = blobs.map((bytes, i) => crateKey(`concurrent-${i}`, `0.${i}.0`, bytes));
      await Promise.all(blobs.map((bytes, i) => store.put(keys[i]!, bytes)));
      await Promise.all(blobs.map((bytes, i) => assertStored(keys[i]!, bytes)));
    });
  });
}
