// Sparse-index files, rendered from the metadata store and cached until a change to the crate.
// The ETag is a hash of the content, so it changes exactly when the bytes do. A cache entry also
// remembers "no such crate", so unknown names cost no query either.
// Rendering grows with the crate: a thousand versions make a ~2 MB file, tens of milliseconds of
// parsing, rendering, hashing and compressing. The store hands over its rows unparsed; a small file
// is rendered here (cheaper than a thread hop), a large one on the CPU pool's worker threads, which
// return it hashed and compressed. Concurrent misses of one crate share one render.

import { gzip, gzipSync } from 'node:zlib';
import { RegistryError } from '../domain/errors.js';
import { SingleFlight } from '../lib/single-flight.js';
import type { Crates } from '../ports/crates.js';
import { renderIndexFileBytes } from '../workers/index-file-task.js';
import type { CpuPool } from './cpu-pool.js';
import { LruCache } from '../lib/lru-cache.js';

export interface IndexFile {
  body: Buffer;
  etag: string;
  /** Gzip form: made with the file when it is large, else on first request by a client that accepts it. */
  gzipped?: Buffer;
}

type Entry = IndexFile | 'missing';

// Below this, gzip saves less than it costs in headers and CPU.
const MIN_GZIP_BYTES = 1024;

/**
 * Files whose stored rows come to more bytes than this are rendered on a worker thread. Measured on
 * a loaded 2-core machine (event loop time per miss, render + hash + gzip): 16 KiB 0.44 ms inline vs
 * 0.16 ms for the hop (plus the worker's time); 64 KiB 0.68 vs 0.35; 256 KiB 3.3 vs 1.0; 2 MiB 34 vs
 * 2.6. Below this a miss holds the loop under a millisecond and costs the machine less CPU inline.
 */
export const INLINE_RENDER_MAX_BYTES = 64 * 1024;

/** A large render waits this long for a thread and runs before the request fails (retryable). */
const RENDER_TIMEOUT_MS = 30_000;

const renderTimedOut = () =>
  new RegistryError('unavailable', 'index-render-timeout', 'rendering this index file took too long; try again shortly', {
    retryAfterSeconds: 5,
  });

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export class IndexFiles {
  private readonly cache: LruCache<string, Entry>;
  // Bumped by every invalidation, so a render that started before a write cannot fill the cache
  // with the old content after the write's invalidation (and a request after it joins no such render).
  private generation = 0;
  private readonly renders = new SingleFlight<Entry>();
  /** Large files (mirrored ones too) being compressed on libuv's threads. */
  private readonly compressing = new WeakSet<IndexFile>();
  /** Lookups answered from the cache, and those that went to the store (read by /metrics). */
  hits = 0;
  misses = 0;

  constructor(
    private readonly crates: Pick<Crates, 'listVersionsJson'>,
    private readonly cpu: CpuPool,
    maxCacheBytes: number,
    private readonly inlineMaxBytes = INLINE_RENDER_MAX_BYTES,
  ) {
    this.cache = new LruCache(maxCacheBytes, (e) =>
      e === 'missing' ? 64 : e.body.length + (e.gzipped?.length ?? e.body.length / 2) + 128,
    );
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
    const entry = await this.renders.run(`${generation}\n${lowerName}`, async () => {
      const rendered = await this.render(lowerName);
      if (generation === this.generation) this.cache.set(lowerName, rendered);
      return rendered;
    });
    return entry === 'missing' ? undefined : entry;
  }

  private async render(lowerName: string): Promise<Entry> {
    const rows = await this.crates.listVersionsJson(lowerName);
    if (rows === undefined || rows.length === 0) return 'missing';
    let size = 0;
    for (const row of rows) size += row.entryJson.length;
    if (size <= this.inlineMaxBytes) {
      const { body, etag } = renderIndexFileBytes({ rows, gzip: false });
      return { body: asBuffer(body), etag };
    }
    const file = await this.cpu.run('renderIndexFile', { rows, gzip: true }, { timeoutMs: RENDER_TIMEOUT_MS, onTimeout: renderTimedOut });
    return { body: asBuffer(file.body), etag: file.etag, gzipped: file.gzipped && asBuffer(file.gzipped) };
  }

  /**
   * The gzip form of a file (of this cache or a mirrored one), or undefined to send it as it is. A
   * small file is compressed here; a large one without its gzip form yet is compressed on libuv's
   * threads for the requests after this one.
   */
  gzipped(file: IndexFile): Buffer | undefined {
    if (file.gzipped !== undefined) return file.gzipped;
    if (file.body.length < MIN_GZIP_BYTES) return undefined;
    if (file.body.length <= this.inlineMaxBytes) return (file.gzipped = gzipSync(file.body));
    if (!this.compressing.has(file)) {
      this.compressing.add(file);
      gzip(file.body, (error, compressed) => {
        this.compressing.delete(file);
        if (!error) file.gzipped = compressed;
      });
    }
    return undefined;
  }

  invalidate(lowerName: string): void {
    this.generation++;
    this.cache.delete(lowerName);
  }
}
