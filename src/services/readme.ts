// A published version's README as safe HTML for the web pages. The README is read from the stored
// .crate: the file the packaged Cargo.toml names (`package.readme`; `false` means none), else the
// first default name at the package root. The archive is streamed, so memory holds only the few
// files wanted (each capped), and the walk stops once they are found. Relative links resolve against
// the repository, at the crate's folder in it when .cargo_vcs_info.json says (`path_in_vcs`).
// Everything that parses what the publisher wrote (the manifests' TOML and JSON, the README's Markdown
// and HTML) runs on the CPU pool's worker threads (workers/readme-task.ts), within limits: size
// (a longer README is cut, with a note), nesting (workers/readme-markdown.ts: too deep shows plain text, with
// a note) and time (too slow shows plain text, with a note). The event loop only moves bytes.
// Rendered HTML is cached: a published version never changes. A missing or corrupt archive gives
// undefined (the page shows no README) and is not cached, since storage may recover; neither is a
// busy pool's refusal. A render that ran out of time is kept a while only, as the time may have gone
// on waiting behind other work.

import { posix } from 'node:path';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { RegistryError } from '../domain/errors.js';
import { MAX_README_NESTING, readmeNote } from '../workers/readme-text.js';
import { SingleFlight } from '../lib/single-flight.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Crates } from '../ports/crates.js';
import type { CpuTasks } from '../workers/cpu-tasks.js';
import type { CpuPool } from './cpu-pool.js';
import { LruCache } from '../lib/lru-cache.js';

/** Names tried at the package root when Cargo.toml names no README, in this order. */
export const DEFAULT_README_NAMES = ['README.md', 'README', 'readme.md', 'README.txt'];

export interface ReadmeLimits {
  /** Bytes of a README read; a longer README is cut, with a note. */
  maxReadmeBytes: number;
  /** Bytes of Cargo.toml, Cargo.toml.orig and .cargo_vcs_info.json read; a longer one is ignored. */
  maxManifestBytes: number;
  /** Bytes unpacked before giving up on an archive (published crates were checked already). */
  maxUnpackedBytes: number;
  /** How deep HTML elements may nest before the README is shown as plain text. */
  maxNesting: number;
  /** Time for each step on a worker thread (reading Cargo.toml, rendering), waiting for one included. */
  renderTimeoutMs: number;
}

/**
 * The largest README takes the worst Markdown measured (tables, headings: about 2 s a MiB on a
 * loaded 2-core machine) about a second to render; real READMEs are far smaller. The time limit is a
 * backstop for slow paths not found yet.
 */
export const DEFAULT_README_LIMITS: ReadmeLimits = {
  maxReadmeBytes: 512 * 1024,
  maxManifestBytes: 256 * 1024,
  maxUnpackedBytes: 512 * 1024 * 1024,
  maxNesting: MAX_README_NESTING,
  renderTimeoutMs: 5_000,
};

/** How long a README that ran out of time is shown as plain text before it is tried again. */
const RETRY_TIMED_OUT_MS = 10 * 60_000;
const VCS_INFO = '.cargo_vcs_info.json';
const ORIGINAL_MANIFEST = 'Cargo.toml.orig';
const MANIFESTS = ['Cargo.toml', ORIGINAL_MANIFEST, VCS_INFO];
const RENDER_TIMED_OUT = 'readme-render-timeout';

interface Captured {
  text: string;
  truncated: boolean;
}

/** A path inside the package; cargo copies a README from outside the package to its root. */
function packagePath(path: string): string {
  const normal = posix.normalize(path.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  return normal.startsWith('../') || normal.startsWith('/') ? posix.basename(normal) : normal;
}

/** Walks the archive, keeping the package files `want` accepts (up to `cap` bytes each), until `enough` says so. */
async function walkCrate(
  blobs: BlobStore,
  blobKey: string,
  packageDir: string,
  maxUnpackedBytes: number,
  files: Map<string, Captured>,
  select: { want: (path: string) => boolean; cap: (path: string) => number; kept?: (path: string) => Promise<void>; enough: () => boolean },
): Promise<Set<string>> {
  const opened = await blobs.open(blobKey);
  if (!opened) throw new Error(`blob ${blobKey} is missing`);
  const gunzip = createGunzip();
  const extractor = extract();
  opened.stream.on('error', (error) => gunzip.destroy(error));
  gunzip.on('error', (error) => extractor.destroy(error));
  opened.stream.pipe(gunzip).pipe(extractor);
  const seen = new Set<string>();
  let unpacked = 0;
  try {
    for await (const entry of extractor) {
      const slash = entry.header.name.indexOf('/');
      const inPackage = slash > 0 && entry.header.name.slice(0, slash).toLowerCase() === packageDir;
      const path = entry.header.name.slice(slash + 1);
      const isFile = entry.header.type === 'file' || entry.header.type === 'contiguous-file';
      if (inPackage && isFile) seen.add(path);
      const keep = inPackage && isFile && !files.has(path) && select.want(path);
      const cap = keep ? select.cap(path) : 0;
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        unpacked += chunk.length;
        if (unpacked > maxUnpackedBytes) throw new Error('the archive unpacks beyond the limit');
        if (!keep) continue;
        const part = chunk.subarray(0, cap - kept);
        chunks.push(part);
        kept += part.length;
        if (part.length < chunk.length) truncated = true;
      }
      if (keep) {
        const text = Buffer.concat(chunks).toString('utf8');
        // A cut may split a character: drop the replacement character it leaves.
        files.set(path, { text: truncated ? text.replace(/\uFFFD$/, '') : text, truncated });
        await select.kept?.(path);
      }
      if (select.enough()) break;
    }
  } finally {
    opened.stream.destroy();
    gunzip.destroy();
    extractor.destroy();
  }
  return seen;
}

interface FoundReadme {
  /** Path of the README in the package. */
  path: string;
  content: Captured;
  /** .cargo_vcs_info.json and Cargo.toml.orig, when present and whole: where the README sits in the repository. */
  vcsInfo: string | undefined;
  originalManifest: string | undefined;
}

/** What Cargo.toml says of the README (read on a worker thread): a path, false (none) or undefined. */
type ReadField = (manifest: string) => Promise<string | false | undefined>;

async function findReadme(
  blobs: BlobStore,
  blobKey: string,
  packageDir: string,
  limits: ReadmeLimits,
  readField: ReadField,
): Promise<FoundReadme | undefined> {
  const files = new Map<string, Captured>();
  let named: string | false | undefined | null = null; // null: Cargo.toml not read yet
  const fixed = [...MANIFESTS, ...DEFAULT_README_NAMES];
  const kept = async (path: string) => {
    if (path !== 'Cargo.toml' || named !== null) return;
    const manifest = files.get(path)!;
    const value = manifest.truncated ? undefined : await readField(manifest.text);
    named = typeof value === 'string' ? packagePath(value) : value;
  };
  const select = {
    want: (path: string) => fixed.includes(path) || path === named,
    cap: (path: string) => (MANIFESTS.includes(path) && path !== named ? limits.maxManifestBytes : limits.maxReadmeBytes),
    kept,
    enough: () =>
      named !== null &&
      (named === false || files.has(named ?? DEFAULT_README_NAMES[0]!)) &&
      files.has(ORIGINAL_MANIFEST) &&
      files.has(VCS_INFO),
  };
  const seen = await walkCrate(blobs, blobKey, packageDir, limits.maxUnpackedBytes, files, select);
  const readme: string | false | undefined | null = named;
  if (readme === false) return undefined;
  if (typeof readme === 'string' && !files.has(readme) && seen.has(readme)) {
    // It came before Cargo.toml in the archive: one more pass for it alone.
    await walkCrate(blobs, blobKey, packageDir, limits.maxUnpackedBytes, files, {
      want: (p) => p === readme,
      cap: () => limits.maxReadmeBytes,
      enough: () => files.has(readme),
    });
  }
  const path = typeof readme === 'string' && files.has(readme) ? readme : DEFAULT_README_NAMES.find((n) => files.has(n));
  if (path === undefined) return undefined;
  const whole = (name: string) => {
    const file = files.get(name);
    return file && !file.truncated ? file.text : undefined;
  };
  return { path, content: files.get(path)!, vcsInfo: whole(VCS_INFO), originalManifest: whole(ORIGINAL_MANIFEST) };
}

const truncationNote = (limit: number) =>
  `<p class="readme-truncated"><em>This README is longer than ${Math.floor(limit / 1024)} KiB; only its beginning is shown.</em></p>`;

/** A refusal or failure of the CPU pool, carried out of the archive walk (whose other errors mean "unreadable"). */
class PoolFailure extends Error {
  constructor(readonly error: RegistryError) {
    super(error.message);
  }
}

interface CachedReadme {
  html: string | undefined;
  /** Set when the README ran out of time: it is rendered again after this (ms since the epoch). */
  retryAt?: number;
}

export class ReadmeService {
  private readonly cache: LruCache<string, CachedReadme>;
  private readonly flights = new SingleFlight<string | undefined>();
  private readonly limits: ReadmeLimits;

  /** `cacheBytes` bounds the cached HTML (about two bytes a character). */
  constructor(
    private readonly crates: Pick<Crates, 'findVersionBlob'>,
    private readonly blobs: BlobStore,
    private readonly cpu: CpuPool,
    cacheBytes: number,
    limits: Partial<ReadmeLimits> = {},
  ) {
    this.cache = new LruCache(cacheBytes, (entry) => 2 * (entry.html?.length ?? 0) + 128);
    this.limits = { ...DEFAULT_README_LIMITS, ...limits };
  }

  /** The rendered README of a version, or undefined when it has none (or its archive is unreadable). */
  async readmeHtml(lowerName: string, version: string, repositoryUrl: string | null): Promise<string | undefined> {
    const key = `${lowerName}\n${version}\n${repositoryUrl ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && (hit.retryAt === undefined || hit.retryAt > Date.now())) return hit.html;
    return this.flights.run(key, async () => {
      const blob = await this.crates.findVersionBlob(lowerName, version);
      if (!blob) return undefined;
      let found: FoundReadme | undefined;
      try {
        found = await findReadme(this.blobs, blob.blobKey, `${lowerName}-${version}`.toLowerCase(), this.limits, (manifest) =>
          this.onPool('readmeField', manifest),
        );
      } catch (error) {
        if (error instanceof PoolFailure) return this.notRendered(key, error.error, undefined);
        return undefined;
      }
      if (!found) {
        this.cache.set(key, { html: undefined });
        return undefined;
      }
      let html: string;
      try {
        html = await this.onPool('renderReadme', {
          source: found.content.text,
          path: found.path,
          repositoryUrl,
          vcsInfo: found.vcsInfo,
          originalManifest: found.originalManifest,
          maxNesting: this.limits.maxNesting,
        });
      } catch (error) {
        if (error instanceof PoolFailure) return await this.notRendered(key, error.error, found);
        throw error;
      }
      if (found.content.truncated) html += truncationNote(this.limits.maxReadmeBytes);
      this.cache.set(key, { html });
      return html;
    });
  }

  private async onPool<K extends 'readmeField' | 'renderReadme' | 'plainReadme'>(task: K, arg: Parameters<CpuTasks[K]>[0]) {
    try {
      return await this.cpu.run(task, arg, {
        timeoutMs: this.limits.renderTimeoutMs,
        onTimeout: () =>
          new RegistryError(
            'too-large',
            RENDER_TIMED_OUT,
            `this README took longer than ${this.limits.renderTimeoutMs / 1000} s to render`,
          ),
      });
    } catch (error) {
      if (error instanceof RegistryError) throw new PoolFailure(error);
      throw error;
    }
  }

  /**
   * What the page shows when the pool could not render the README: a note, then the README as plain
   * text when it was read (escaped on the pool too: that is linear, but tens of milliseconds for the
   * largest). Too slow (or too big for a worker's memory) is kept for a while; a busy pool's refusal
   * is not kept at all.
   */
  private async notRendered(key: string, error: RegistryError, found: FoundReadme | undefined): Promise<string> {
    const busy = readmeNote('The server is too busy to render this README now; reload the page in a few seconds to see it.');
    if (error.kind === 'unavailable') return busy;
    if (error.code !== RENDER_TIMED_OUT && error.code !== 'task-out-of-memory') throw error;
    const seconds = this.limits.renderTimeoutMs / 1000;
    let html: string;
    if (!found) {
      html = readmeNote(
        error.code === RENDER_TIMED_OUT
          ? `This version's Cargo.toml took longer than ${seconds} s to read, so its README is not shown.`
          : `This version's Cargo.toml needs more memory to read than the server allows, so its README is not shown.`,
      );
    } else {
      const why =
        error.code === RENDER_TIMED_OUT
          ? `This README took longer than ${seconds} s to render`
          : 'This README needs more memory to render than the server allows';
      let text: string;
      try {
        text = await this.onPool('plainReadme', found.content.text);
      } catch (failure) {
        if (failure instanceof PoolFailure) return failure.error.kind === 'unavailable' ? busy : readmeNote(`${why}, so it is not shown.`);
        throw failure;
      }
      html =
        readmeNote(`${why}, so it is shown as plain text.`) +
        text +
        (found.content.truncated ? truncationNote(this.limits.maxReadmeBytes) : '');
    }
    this.cache.set(key, { html, retryAt: Date.now() + RETRY_TIMED_OUT_MS });
    return html;
  }
}
