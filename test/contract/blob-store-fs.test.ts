// The BlobStore contract against the filesystem adapter, in a temporary folder; then what only files
// have: a blob opened is closed by its stream, and a key that is not a regular file is an error.

import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { FsBlobStore } from '../../src/adapters/blob/fs-store.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { blobStoreContract, readAll } from './blob-store.contract.js';

blobStoreContract('filesystem', async () => new FsBlobStore(makeTempDir('cratekeeper-blobs-')));

/** Once the stream has closed its file. */
const closed = async (stream: Readable) => {
  if (!stream.closed) await once(stream, 'close');
};

describe('FsBlobStore: open files', () => {
  const root = makeTempDir('cratekeeper-blob-files-');
  const store = new FsBlobStore(root);
  /** This process's open files under the store's folder. */
  const openFiles = () =>
    readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`).startsWith(root);
      } catch {
        return false; // closed meanwhile
      }
    }).length;

  it('closes the file when its stream ends, and when it is destroyed unread', async () => {
    await store.put('crates/a/1.0.0.crate', Buffer.from('the bytes'));
    const read = (await store.open('crates/a/1.0.0.crate'))!;
    assert.equal(openFiles(), 1);
    assert.equal((await readAll(read.stream)).toString(), 'the bytes');
    await closed(read.stream);
    assert.equal(openFiles(), 0);
    const unread = (await store.open('crates/a/1.0.0.crate'))!;
    assert.equal(openFiles(), 1);
    unread.stream.destroy();
    await closed(unread.stream);
    assert.equal(openFiles(), 0);
  });

  it('refuses a key that is a folder, with no file left open', async () => {
    mkdirSync(join(root, 'crates', 'folder'), { recursive: true });
    await assert.rejects(store.openFile('crates/folder'), /the blob crates\/folder is not a regular file/);
    await assert.rejects(store.open('crates/folder'), /not a regular file/);
    assert.equal(openFiles(), 0);
  });
});
