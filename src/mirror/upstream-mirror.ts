// One mirrored upstream: its index files, its config.json and its .crate files, cached in the blob
// store (so every replica, on disk or S3, shares one cache). An index file is served from cache
// while fresh (`index_ttl_seconds`), then revalidated with the upstream's ETag; when the upstream
// fails or is slower than `stale_timeout_ms`, the cached copy is served and the failure logged.
// A .crate is checked against the index line's `cksum` before it is stored or served. Concurrent
// requests for the same file or crate share one upstream fetch. `offline` serves the cache only.

import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { UpstreamConfig } from '../config/upstreams-schema.js';
import { indexPathOf, isPlausibleCrateName } from '../domain/crate-name.js';
import { notFound, RegistryError } from '../domain/errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import { LruCache } from '../lib/lru-cache.js';
import { decodeCachedFile, encodeCachedFile, makeCachedFile, type CachedFile } from './cached-file.js';
import { blessedList, compileCratePatterns, type CratePatterns } from './crate-patterns.js';
import { crateDownloadUrl } from './download-url.js';
import { MirrorStats } from './mirror-stats.js';
import { SingleFlight } from '../lib/single-flight.js';
import type { UpstreamHttp, UpstreamResponse } from './upstream-http.js';

export const unavailable = (code: RegistryError['code'], message: string) => new RegistryError('unavailable', code, message);

export interface MirroredCrate {
  stream?: Readable;
  bytes?: Buffer;
  size: number;
  cksum: string;
}

const MISSING_STATUSES = new Set([404, 410, 451]);

/** The largest web API answer read (a crate's versions on crates.io: a few MB at most). */
const API_MAX_BYTES = 32 * 1024 ** 2;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export class UpstreamMirror {
  readonly name: string;
  readonly blessed: CratePatterns;
  readonly localNameAllowed: CratePatterns;
  readonly stats: MirrorStats;
  private readonly memory: LruCache<string, CachedFile>;
  private readonly files = new SingleFlight<CachedFile>();
  private readonly crates = new SingleFlight<MirroredCrate>();

  constructor(
    readonly config: UpstreamConfig,
    private readonly http: UpstreamHttp,
    private readonly blobs: BlobStore,
    private readonly log: Logger,
    memoryBytes: number,
    private readonly now: () => number = Date.now,
  ) {
    this.name = config.name;
    this.blessed = blessedList(config.allow, config.deny);
    this.localNameAllowed = compileCratePatterns(config.local_names);
    this.memory = new LruCache(memoryBytes, (f) => f.body.length * 1.5 + 256);
    this.stats = new MirrorStats(blobs, `mirror/${this.name}/status.json`, (error) =>
      this.log.error({ err: error, upstream: this.name }, 'writing mirror status failed'),
    );
  }

  /** The upstream's index file for a lower-case name, or undefined (no such crate, denied, or not cached offline). */
  async indexFile(lowerName: string): Promise<CachedFile | undefined> {
    if (!isPlausibleCrateName(lowerName) || !this.blessed(lowerName)) return undefined;
    const file = await this.file(indexPathOf(lowerName));
    return file?.present ? file : undefined;
  }

  /**
   * Whether the upstream has a crate of this lower-case name, whatever its allow and deny lists say
   * (they decide what is served, not what the upstream has): `unknown` when the upstream is offline
   * and has no cached answer for the name. Throws when an online upstream cannot be asked.
   */
  async hasCrate(lowerName: string): Promise<'yes' | 'no' | 'unknown'> {
    if (!isPlausibleCrateName(lowerName)) return 'no';
    const file = await this.file(indexPathOf(lowerName));
    if (file === undefined) return 'unknown';
    return file.present ? 'yes' : 'no';
  }

  /** A version's .crate: from the cache, else fetched, checked against the index's cksum, and stored. */
  async crate(name: string, version: string): Promise<MirroredCrate> {
    const missing = () => notFound('version-not-found', `crate \`${name}\` has no version \`${version}\` on upstream \`${this.name}\``);
    const lower = name.toLowerCase();
    const file = await this.indexFile(lower);
    if (!file) throw missing();
    const line = this.findLine(file, version);
    if (!line) throw missing();
    const key = `mirror/${this.name}/crates/${lower}/${version}-${line.cksum}.crate`;
    const opened = await this.blobs.open(key);
    if (opened) return { stream: opened.stream, size: opened.size, cksum: line.cksum };
    if (this.config.offline)
      throw notFound('not-cached', `${name}@${version} is not in the cache of upstream \`${this.name}\`, which is offline`);
    return this.crates.run(key, () => this.fetchCrate(line.name, version, line.cksum, key));
  }

  /** Ensures a version is cached (for `mirror sync`); returns its size. */
  async prefetch(name: string, version: string): Promise<number> {
    const got = await this.crate(name, version);
    got.stream?.destroy();
    return got.size;
  }

  /**
   * A GET on the upstream's web API (the `api` of its config.json, with `headers.api`), or undefined
   * when it names none or is offline. Throws when the upstream cannot be reached.
   */
  async apiGet(path: string): Promise<UpstreamResponse | undefined> {
    if (this.config.offline) return undefined;
    const config = await this.file('config.json');
    if (!config?.present) return undefined;
    let api: unknown;
    try {
      api = (JSON.parse(config.body.toString('utf8')) as { api?: unknown }).api;
    } catch {
      return undefined;
    }
    if (typeof api !== 'string' || !/^https?:\/\//.test(api)) return undefined;
    const url = `${api.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
    return this.http.get(url, {
      operation: 'api',
      headers: { accept: 'application/json' },
      timeoutMs: this.config.timeout_ms,
      maxBytes: API_MAX_BYTES,
    });
  }

  close(): Promise<void> {
    return this.stats.flush();
  }

  private findLine(file: CachedFile, version: string): { name: string; cksum: string } | undefined {
    for (const text of file.body.toString('utf8').split('\n')) {
      if (text.trim() === '') continue;
      try {
        const line = JSON.parse(text) as { name?: unknown; vers?: unknown; cksum?: unknown };
        if (line.vers === version && typeof line.name === 'string' && typeof line.cksum === 'string' && /^[0-9a-f]{64}$/.test(line.cksum)) {
          return { name: line.name, cksum: line.cksum };
        }
      } catch {
        // cargo skips lines it cannot parse; so do we
      }
    }
    return undefined;
  }

  private async fetchCrate(name: string, version: string, cksum: string, key: string): Promise<MirroredCrate> {
    const config = await this.file('config.json');
    if (!config?.present) throw unavailable('upstream-config-missing', `upstream \`${this.name}\` has no config.json`);
    let dl: string;
    try {
      dl = (JSON.parse(config.body.toString('utf8')) as { dl: string }).dl;
      if (typeof dl !== 'string') throw new Error('no dl');
    } catch {
      throw this.failed('upstream-config-invalid', `the config.json of upstream \`${this.name}\` has no usable "dl"`);
    }
    const url = crateDownloadUrl(dl, name, version, cksum);
    let response;
    try {
      response = await this.http.get(url, { operation: 'download', timeoutMs: this.config.timeout_ms });
    } catch (error) {
      throw this.failed(
        'upstream-unreachable',
        `downloading ${name}@${version} from upstream \`${this.name}\` failed: ${(error as Error).message}`,
      );
    }
    if (response.status !== 200) {
      throw this.failed('upstream-download-failed', `upstream \`${this.name}\` answered ${response.status} for ${name}@${version}`);
    }
    const actual = createHash('sha256').update(response.body).digest('hex');
    if (actual !== cksum) {
      this.log.error(
        { upstream: this.name, crate: name, version, expected: cksum, actual, url },
        'upstream .crate does not match its index checksum; refused',
      );
      throw this.failed(
        'upstream-checksum-mismatch',
        `the .crate of ${name}@${version} from upstream \`${this.name}\` does not match the checksum in its index; refused`,
      );
    }
    await this.blobs.put(key, response.body);
    this.stats.crate(key, response.body.length);
    return { bytes: response.body, size: response.body.length, cksum };
  }

  private failed(code: RegistryError['code'], message: string): RegistryError {
    this.stats.error(message);
    this.log.warn({ upstream: this.name, code }, message);
    return unavailable(code, message);
  }

  /** A cached or fetched upstream file by its path under the index. */
  async file(path: string): Promise<CachedFile | undefined> {
    const cached = this.memory.get(path) ?? (await this.loadCached(path));
    if (this.config.offline) return cached;
    if (cached && this.now() - cached.fetchedAt < this.config.index_ttl_seconds * 1000) return cached;
    const refresh = this.files.run(path, () => this.fetchFile(path, cached));
    if (!cached) return refresh;
    refresh.catch(() => {}); // the failure is logged in fetchFile; the waiters below serve the cached copy
    let timer: NodeJS.Timeout | undefined;
    const slow = new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), this.config.stale_timeout_ms)));
    try {
      const outcome = await Promise.race([refresh, slow]);
      if (outcome === 'slow') {
        this.log.warn({ upstream: this.name, path }, `upstream is slower than ${this.config.stale_timeout_ms} ms; serving the cached copy`);
        return cached;
      }
      return outcome;
    } catch {
      return cached;
    } finally {
      clearTimeout(timer);
    }
  }

  private async loadCached(path: string): Promise<CachedFile | undefined> {
    const opened = await this.blobs.open(this.fileKey(path));
    if (!opened) return undefined;
    const file = decodeCachedFile(await readAll(opened.stream));
    if (file) this.memory.set(path, file);
    return file;
  }

  private fileKey(path: string): string {
    return `mirror/${this.name}/index/${path}`;
  }

  private async fetchFile(path: string, cached: CachedFile | undefined): Promise<CachedFile> {
    const url = new URL(path, this.config.index_url).href;
    const headers: Record<string, string> = { accept: 'text/plain', 'accept-encoding': 'gzip', 'cargo-protocol': 'version=1' };
    if (cached?.present && cached.upstreamEtag) headers['if-none-match'] = cached.upstreamEtag;
    else if (cached?.present && cached.lastModified) headers['if-modified-since'] = cached.lastModified;
    let response;
    try {
      response = await this.http.get(url, { operation: 'index', headers, timeoutMs: this.config.timeout_ms });
    } catch (error) {
      throw this.staleOr(
        cached,
        'upstream-unreachable',
        `fetching ${path} from upstream \`${this.name}\` failed: ${(error as Error).message}`,
      );
    }
    let file: CachedFile;
    if (response.status === 304 && cached) {
      file = { ...cached, fetchedAt: this.now() };
    } else if (response.status === 200 || MISSING_STATUSES.has(response.status)) {
      const present = response.status === 200;
      const etag = response.headers.etag;
      const lastModified = response.headers['last-modified'];
      file = makeCachedFile({
        present,
        body: present ? response.body : Buffer.alloc(0),
        upstreamEtag: present ? etag : undefined,
        lastModified: present ? lastModified : undefined,
        fetchedAt: this.now(),
      });
    } else {
      const hint = response.status === 401 || response.status === 403 ? ' (check the upstream credentials)' : '';
      throw this.staleOr(cached, 'upstream-error', `upstream \`${this.name}\` answered ${response.status} for ${path}${hint}`);
    }
    this.memory.set(path, file);
    try {
      await this.blobs.put(this.fileKey(path), encodeCachedFile(file));
    } catch (error) {
      this.log.error({ err: error, upstream: this.name, path }, 'caching an upstream index file failed');
    }
    if (file.present) this.stats.indexFile(path, file.body.length);
    return file;
  }

  /** Records and logs an upstream failure; the error to throw (callers with a cached copy serve it). */
  private staleOr(cached: CachedFile | undefined, code: RegistryError['code'], message: string): RegistryError {
    if (cached) {
      this.stats.error(message);
      this.log.warn({ upstream: this.name, code }, `${message}; serving the cached copy`);
      return unavailable(code, message);
    }
    return this.failed(code, message);
  }
}
