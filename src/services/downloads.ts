// Downloads: find the blob of a version (cached: a published version's bytes never change) and
// open it for streaming. A crate is found in any spelling (`Foo_Bar` for `foo-bar`), as crates.io
// does; cargo itself always asks with the published name, so that costs a query only on a miss.

import type { Readable } from 'node:stream';
import { isPlausibleCrateName, normalizeCrateName } from '../domain/crate-name.js';
import { notFound } from '../domain/errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Crates, VersionBlob } from '../ports/crates.js';
import { LruCache } from '../lib/lru-cache.js';

export const versionNotFound = (name: string, version: string) =>
  notFound('version-not-found', `crate \`${name}\` has no version \`${version}\``);

interface FoundBlob extends VersionBlob {
  /** The crate's lower-case name as published. */
  crate: string;
}

export class DownloadService {
  private readonly blobs = new LruCache<string, FoundBlob>(100_000);

  constructor(
    private readonly crates: Crates,
    private readonly blobStore: BlobStore,
  ) {}

  private async find(name: string, version: string): Promise<FoundBlob | undefined> {
    const lower = name.toLowerCase();
    const blob = await this.crates.findVersionBlob(lower, version);
    if (blob) return { ...blob, crate: lower };
    const stored = (await this.crates.findCrateName(normalizeCrateName(name)))?.toLowerCase();
    if (stored === undefined || stored === lower) return undefined;
    const other = await this.crates.findVersionBlob(stored, version);
    return other && { ...other, crate: stored };
  }

  /**
   * The lookups of a download of a version that does not exist (`find` on a miss: the version, then
   * the crate's name as published), their answers unused: for a crate the caller may not read, so
   * that its 404 costs what a missing crate's does and its time does not tell that it exists. The
   * cache is not asked: it only knows versions that exist.
   */
  async lookUpAsMissing(name: string, version: string): Promise<void> {
    if (!isPlausibleCrateName(name)) return;
    await this.crates.findVersionBlob(name.toLowerCase(), version);
    await this.crates.findCrateName(normalizeCrateName(name));
  }

  /** The version's bytes; `crate` is its lower-case name as published (for counts and the audit log). */
  async open(name: string, version: string): Promise<{ stream: Readable; size: number; cksum: string; crate: string }> {
    const missing = () => versionNotFound(name, version);
    if (!isPlausibleCrateName(name)) throw missing();
    const key = `${name.toLowerCase()}/${version}`;
    let blob = this.blobs.get(key);
    if (!blob) {
      blob = await this.find(name, version);
      if (!blob) throw missing();
      this.blobs.set(key, blob);
    }
    const opened = await this.blobStore.open(blob.blobKey);
    if (!opened) throw new Error(`the blob ${blob.blobKey} of ${name}@${version} is missing from storage`);
    return { ...opened, cksum: blob.cksum, crate: blob.crate };
  }
}
