// Sparse-index files, read from the metadata store (which keeps each crate's file as rendered at its
// last change, adapters/metadata/sql-index-files.ts) and cached until a change to the crate. The
// ETag is a hash of the content, so it changes exactly when the bytes do. A cache entry also
// remembers "no such crate", so unknown names cost no query either. A miss is one lookup and one
// buffer whatever the crate's size; concurrent misses of one crate share it.

import { gzip, gzipSync } from 'node:zlib';
import { SingleFlight } from '../lib/single-flight.js';
import type { Crates } from '../ports/crates.js';
import { LruCache } from '../lib/lru-cache.js';
import { ownBytes } from '../lib/own-bytes.js';

export interface IndexFile {
  body: Buffer;
  etag: string;
  /** Gzip form: made on first request by a client that accepts it (off the loop for a large file). */
  gzipped?: Buffer;
}

type Entry = IndexFile | 'missing';

// Below this, gzip saves less than it costs in headers and CPU.
const MIN_GZIP_BYTES = 1024;

/** Files up to this size are compressed on the event loop (well under a millisecond); larger ones on libuv's threads. */
export const INLINE_GZIP_MAX_BYTES = 64 * 1024;

export class IndexFiles {
  private readonly cache: LruCache<string, Entry>;
  // Bumped by every invalidation, so a read that started before a write cannot fill the cache
  // with the old content after the write's invalidation (and a request after it joins no such read).
  private generation = 0;
  private readonly reads = new SingleFlight<Entry>();
  /** Large files (mirrored ones too) being compressed on libuv's threads. */
  private readonly compressing = new WeakSet<IndexFile>();
  /** Lookups answered from the cache, and those that went to the store (read by /metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly crates: Pick<Crates, 'readIndexFile'>,
    maxCacheBytes: number,
    private readonly inlineGzipMaxBytes = INLINE_GZIP_MAX_BYTES,
  ) {
    this.cache = new LruCache(maxCacheBytes, (e) =>
      e === 'missing' ? 64 : e.body.length + (e.gzipped?.length ?? e.body.length >> 1) + 128,
    );
  }

  /**
   * The index file of a crate, by lower-case name; undefined when there is no such crate. Answered
   * at once (no promise) from the cache: the lean path (fast-lane.ts) then sends it in the same turn.
   */
  get(lowerName: string): IndexFile | undefined | Promise<IndexFile | undefined> {
    const cached = this.cache.get(lowerName);
    if (cached !== undefined) {
      this.hits++;
      return cached === 'missing' ? undefined : cached;
    }
    this.misses++;
    return this.read(lowerName);
  }

  private async read(lowerName: string): Promise<IndexFile | undefined> {
    const generation = this.generation;
    const entry = await this.reads.run(`${generation}\n${lowerName}`, async () => {
      const stored = await this.crates.readIndexFile(lowerName);
      const read: Entry = stored === undefined ? 'missing' : { body: ownBytes(stored.body), etag: stored.etag };
      if (generation === this.generation) this.cache.set(lowerName, read);
      return read;
    });
    return entry === 'missing' ? undefined : entry;
  }

  /**
   * The gzip form of a file (of this cache or a mirrored one), or undefined to send it as it is. A
   * small file is compressed here; a large one without its gzip form yet is compressed on libuv's
   * threads for the requests after this one.
   */
  gzipped(file: IndexFile): Buffer | undefined {
    if (file.gzipped !== undefined) return file.gzipped;
    if (file.body.length < MIN_GZIP_BYTES) return undefined;
    if (file.body.length <= this.inlineGzipMaxBytes) return (file.gzipped = ownBytes(gzipSync(file.body)));
    if (!this.compressing.has(file)) {
      this.compressing.add(file);
      gzip(file.body, (error, compressed) => {
        this.compressing.delete(file);
        if (!error) file.gzipped = ownBytes(compressed);
      });
    }
    return undefined;
  }

  invalidate(lowerName: string): void {
    this.generation++;
    this.cache.delete(lowerName);
  }
}
