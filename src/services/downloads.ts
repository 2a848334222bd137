// Downloads: find the blob of a version (cached: a published version's bytes never change) and
// open it, as a stream or, from a store of local files, as a file. A crate is found in any
// spelling (`Foo_Bar` for `foo-bar`), as crates.io does; cargo itself always asks with the
// published name, so that costs a query only on a miss.

import type { Readable } from 'node:stream';
import { isPlausibleCrateName, normalizeCrateName } from '../domain/crate-name.js';
import { notFound } from '../domain/errors.js';
import type { BlobFile, BlobStore } from '../ports/blob-store.js';
import type { Crates, VersionBlob } from '../ports/crates.js';
import { LruCache } from '../lib/lru-cache.js';

export const versionNotFound = (name: string, version: string) =>
  notFound('version-not-found', `crate \`${name}\` has no version \`${version}\``);

export interface FoundBlob extends VersionBlob {
  /** The crate's lower-case name as published. */
  crate: string;
  version: string;
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
    if (blob) return { ...blob, crate: lower, version };
    const stored = (await this.crates.findCrateName(normalizeCrateName(name)))?.toLowerCase();
    if (stored === undefined || stored === lower) return undefined;
    const other = await this.crates.findVersionBlob(stored, version);
    return other && { ...other, crate: stored, version };
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

  /**
   * The blob of a version, found in any spelling of the crate's name; throws a 404 when there is
   * none. `crate` is the lower-case name as published (for counts and the audit log).
   */
  async locate(name: string, version: string): Promise<FoundBlob> {
    const missing = () => versionNotFound(name, version);
    if (!isPlausibleCrateName(name)) throw missing();
    const key = `${name.toLowerCase()}/${version}`;
    let blob = this.blobs.get(key);
    if (!blob) {
      blob = await this.find(name, version);
      if (!blob) throw missing();
      this.blobs.set(key, blob);
    }
    return blob;
  }

  /** The located version's bytes as a stream. */
  async open(found: FoundBlob): Promise<{ stream: Readable; size: number }> {
    return (await this.blobStore.open(found.blobKey)) ?? missingFromStorage(found);
  }

  /** Whether `openFile` can answer: the store keeps its blobs as local files. */
  get opensFiles(): boolean {
    return this.blobStore.openFile !== undefined;
  }

  /** The located version's bytes as an open file (when `opensFiles`), which the caller closes. */
  async openFile(found: FoundBlob): Promise<BlobFile> {
    if (!this.blobStore.openFile) throw new Error('this blob store keeps no local files');
    return (await this.blobStore.openFile(found.blobKey)) ?? missingFromStorage(found);
  }
}

function missingFromStorage(found: FoundBlob): never {
  throw new Error(`the blob ${found.blobKey} of ${found.crate}@${found.version} is missing from storage`);
}
