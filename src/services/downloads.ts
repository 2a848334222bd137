// Downloads: find the blob of a version (cached: a published version's bytes never change) and
// open it for streaming.

import type { Readable } from 'node:stream';
import { isPlausibleCrateName } from '../domain/crate-name.js';
import { notFound } from '../domain/errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore, VersionBlob } from '../ports/metadata-store.js';
import { LruCache } from './lru-cache.js';

export const versionNotFound = (name: string, version: string) =>
  notFound('version-not-found', `crate \`${name}\` has no version \`${version}\``);

export class DownloadService {
  private readonly blobs = new LruCache<string, VersionBlob>(100_000);

  constructor(
    private readonly store: MetadataStore,
    private readonly blobStore: BlobStore,
  ) {}

  async open(name: string, version: string): Promise<{ stream: Readable; size: number; cksum: string }> {
    const missing = () => versionNotFound(name, version);
    if (!isPlausibleCrateName(name)) throw missing();
    const key = `${name.toLowerCase()}/${version}`;
    let blob = this.blobs.get(key);
    if (!blob) {
      blob = await this.store.findVersionBlob(name.toLowerCase(), version);
      if (!blob) throw missing();
      this.blobs.set(key, blob);
    }
    const opened = await this.blobStore.open(blob.blobKey);
    if (!opened) throw new Error(`the blob ${blob.blobKey} of ${name}@${version} is missing from storage`);
    return { ...opened, cksum: blob.cksum };
  }
}
