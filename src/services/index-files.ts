// Sparse-index files, rendered from the metadata store and cached until a change to the crate.
// The ETag is a hash of the content, so it changes exactly when the bytes do. A cache entry also
// remembers "no such crate", so unknown names cost no query either.

import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { renderIndexFile } from '../domain/index-line.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { LruCache } from './lru-cache.js';

export interface IndexFile {
  body: Buffer;
  etag: string;
  /** Gzip form, made on first request by a client that accepts it. */
  gzipped?: Buffer;
}

type Entry = IndexFile | 'missing';

// Below this, gzip saves less than it costs in headers and CPU.
const MIN_GZIP_BYTES = 1024;

export class IndexFiles {
  private readonly cache: LruCache<string, Entry>;
  // Bumped by every invalidation, so a render that started before a write cannot fill the cache
  // with the old content after the write's invalidation.
  private generation = 0;
  /** Lookups answered from the cache, and those that went to the store (read by /metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly store: MetadataStore,
    maxCacheBytes: number,
  ) {
    this.cache = new LruCache(maxCacheBytes, (e) => (e === 'missing' ? 64 : e.body.length * 1.5 + 128));
  }

  /** The index file of a crate, by lower-case name; undefined when there is no such crate. */
  async get(lowerName: string): Promise<IndexFile | undefined> {
    const cached = this.cache.get(lowerName);
    if (cached !== undefined) {
      this.hits++;
      return cached === 'missing' ? undefined : cached;
    }
    this.misses++;
    const generation = this.generation;
    const versions = await this.store.listVersions(lowerName);
    let entry: Entry = 'missing';
    if (versions !== undefined && versions.length > 0) {
      const body = Buffer.from(renderIndexFile(versions), 'utf8');
      entry = { body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"` };
    }
    if (generation === this.generation) this.cache.set(lowerName, entry);
    return entry === 'missing' ? undefined : entry;
  }

  gzipped(file: IndexFile): Buffer | undefined {
    if (file.body.length < MIN_GZIP_BYTES) return undefined;
    file.gzipped ??= gzipSync(file.body);
    return file.gzipped;
  }

  invalidate(lowerName: string): void {
    this.generation++;
    this.cache.delete(lowerName);
  }
}
