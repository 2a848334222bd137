// Sparse-index files, read from the metadata store (which keeps each crate's file as rendered at its
// last change, and its gzip form, adapters/metadata/sql-index-files.ts) and cached until a change to
// the crate. The ETag is a hash of the content, so it changes exactly when the bytes do. A cache
// entry also remembers "no such crate", so unknown names cost no query either. A miss is one lookup
// and one buffer whatever the crate's size; concurrent misses of one crate share it.
//
// Each form is read and cached on its own: cargo, which always accepts gzip, costs the cache a
// tenth of what the bytes would, and a client that does not accept gzip gets the bytes from the
// store, not inflated here.

import { gzip, gzipSync } from 'node:zlib';
import { MIN_GZIP_BYTES, type IndexFile, type IndexFileForm } from '../domain/index-file.js';
import { SingleFlight } from '../lib/single-flight.js';
import type { Crates } from '../ports/crates.js';
import { LruCache } from '../lib/lru-cache.js';
import { ownBytes } from '../lib/own-bytes.js';

type Entry = IndexFile | 'missing' | 'exists';

/**
 * What an entry costs beside its bytes: its objects, its buffer's own allocation and record, and the
 * room V8 keeps in proportion to what lives in its heap. Measured as the growth of resident memory
 * with the number of entries (gzip forms of about 800 bytes each, after 50,000 different files):
 * about 3 KiB per entry, its bytes included. Most gzip forms are that small, so without this the
 * cache would hold three times the memory it counts (bench/README.md).
 */
const ENTRY_BYTES = 2048;
/** A remembered "no such crate" (or a hidden crate's "it exists"): its key and its slot. */
const MARKER_BYTES = 128;

function weightOf(entry: Entry): number {
  if (entry === 'missing' || entry === 'exists') return MARKER_BYTES;
  return ENTRY_BYTES + (entry.body?.length ?? 0) + (entry.gzipped?.length ?? 0);
}

/** The form a request gets: gzip when it accepts it. The same answer for the lookup and the reply. */
export function indexFileFormFor(acceptEncoding: string | undefined): IndexFileForm {
  return acceptEncoding?.includes('gzip') ? 'gzip' : 'identity';
}

/** The cache key of a crate's file in a form: the bare name for the gzip form, which nearly every read asks for. */
function cacheKey(lowerName: string, form: IndexFileForm): string {
  return form === 'gzip' ? lowerName : `${lowerName} identity`;
}

/** The cache key of whether a crate exists, for the callers who may not read it (`existsForHidden`). */
function hiddenKey(lowerName: string, form: IndexFileForm): string {
  return `${lowerName} hidden ${form}`;
}

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
    this.cache = new LruCache(maxCacheBytes, weightOf);
  }

  /**
   * The index file of a crate, by lower-case name, in one form (`indexFileFormFor`); undefined when
   * there is no such crate. Callers that need its ETag or lines, not a reply, ask for the gzip form,
   * the smaller one to keep (`indexFileBody` inflates it). Answered at once (no promise) from the
   * cache: the lean path (fast-lane.ts) then sends it in the same turn.
   */
  get(lowerName: string, form: IndexFileForm = 'gzip'): IndexFile | undefined | Promise<IndexFile | undefined> {
    const key = cacheKey(lowerName, form);
    const cached = this.cache.get(key) as IndexFile | 'missing' | undefined;
    if (cached !== undefined) {
      this.hits++;
      return cached === 'missing' ? undefined : cached;
    }
    this.misses++;
    return this.read(lowerName, form, key, ownForms).then((entry) => (entry === 'missing' ? undefined : (entry as IndexFile)));
  }

  /**
   * Whether a crate exists, for a caller an access rule hides it from. Looked up under a key of its
   * own, with a store read the first time, so that the cache's counters in /metrics move as they do
   * for a name that does not exist: a hidden crate that its readers keep in the cache would
   * otherwise count a hit where an unknown name counts a miss, and tell that it exists.
   */
  existsForHidden(lowerName: string, form: IndexFileForm): boolean | Promise<boolean> {
    const key = hiddenKey(lowerName, form);
    const cached = this.cache.get(key);
    if (cached !== undefined) {
      this.hits++;
      return cached === 'exists';
    }
    this.misses++;
    return this.read(lowerName, form, key, () => 'exists').then((entry) => entry === 'exists');
  }

  /** Reads a crate's file from the store and caches `kept(file)` under `key`, or "missing". */
  private read(lowerName: string, form: IndexFileForm, key: string, kept: (stored: IndexFile) => Entry): Promise<Entry> {
    const generation = this.generation;
    return this.reads.run(`${generation}\n${key}`, async () => {
      const stored = await this.crates.readIndexFile(lowerName, form);
      const read: Entry = stored === undefined ? 'missing' : kept(stored);
      if (generation === this.generation) this.cache.set(key, read);
      return read;
    });
  }

  /**
   * The gzip form of a file, or undefined to send it as it is. A local file read in its gzip form
   * has it from the store. A mirrored file, or one the supply-chain policy filtered, is compressed
   * here when small; when large, on libuv's threads for the requests after this one.
   */
  gzipped(file: IndexFile): Buffer | undefined {
    if (file.gzipped !== undefined) return file.gzipped;
    if (file.body === undefined || file.body.length < MIN_GZIP_BYTES) return undefined;
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
    for (const form of ['gzip', 'identity'] as const) {
      this.cache.delete(cacheKey(lowerName, form));
      this.cache.delete(hiddenKey(lowerName, form));
    }
  }
}

function ownForms(stored: IndexFile): IndexFile {
  const file: IndexFile = { etag: stored.etag };
  if (stored.body !== undefined) file.body = ownBytes(stored.body);
  if (stored.gzipped !== undefined) file.gzipped = ownBytes(stored.gzipped);
  return file;
}
