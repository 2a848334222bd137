// A published version's README as safe HTML for the web pages. The README is read from the stored
// .crate: the file the packaged Cargo.toml names (`package.readme`; `false` means none), else the
// first default name at the package root. The archive is streamed, so memory holds only the few
// files wanted (each capped), and the walk stops once they are found. Relative links resolve against
// the repository, at the crate's folder in it when .cargo_vcs_info.json says (`path_in_vcs`).
// Rendered HTML is cached: a published version never changes. A missing or corrupt archive gives
// undefined (the page shows no README) and is not cached, since storage may recover.

import { posix } from 'node:path';
import { createGunzip } from 'node:zlib';
import { parse as parseToml } from 'smol-toml';
import { extract } from 'tar-stream';
import { readmeLinkBase, renderReadme } from './readme-markdown.js';
import { SingleFlight } from '../mirror/single-flight.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { LruCache } from './lru-cache.js';

/** Names tried at the package root when Cargo.toml names no README, in this order. */
export const DEFAULT_README_NAMES = ['README.md', 'README', 'readme.md', 'README.txt'];

export interface ReadmeLimits {
  /** Bytes of a README (and of Cargo.toml) read; a longer README is cut, with a note. */
  maxReadmeBytes: number;
  /** Bytes unpacked before giving up on an archive (published crates were checked already). */
  maxUnpackedBytes: number;
}

const DEFAULT_LIMITS: ReadmeLimits = { maxReadmeBytes: 1024 * 1024, maxUnpackedBytes: 512 * 1024 * 1024 };
const VCS_INFO = '.cargo_vcs_info.json';
const ORIGINAL_MANIFEST = 'Cargo.toml.orig';

interface Captured {
  text: string;
  truncated: boolean;
}

/** What the packaged manifest says: a path, `false` (no README), or undefined (use the defaults). */
function readmeField(manifest: Captured | undefined): string | false | undefined {
  if (!manifest) return undefined;
  try {
    const pkg = (parseToml(manifest.text) as { package?: { readme?: unknown } }).package;
    const field = pkg?.readme;
    if (field === false) return false;
    if (field === true) return 'README.md';
    return typeof field === 'string' ? field : undefined;
  } catch {
    return undefined;
  }
}

/** A path inside the package; cargo copies a README from outside the package to its root. */
function packagePath(path: string): string {
  const normal = posix.normalize(path.replace(/\\/g, '/')).replace(/^(\.\/)+/, '');
  return normal.startsWith('../') || normal.startsWith('/') ? posix.basename(normal) : normal;
}

/** Walks the archive, keeping the package files `want` accepts, until `enough` says so. */
async function walkCrate(
  blobs: BlobStore,
  blobKey: string,
  packageDir: string,
  limits: ReadmeLimits,
  files: Map<string, Captured>,
  want: (path: string) => boolean,
  enough: () => boolean,
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
      const keep = inPackage && isFile && !files.has(path) && want(path);
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        unpacked += chunk.length;
        if (unpacked > limits.maxUnpackedBytes) throw new Error('the archive unpacks beyond the limit');
        if (!keep) continue;
        const part = chunk.subarray(0, limits.maxReadmeBytes - kept);
        chunks.push(part);
        kept += part.length;
        if (part.length < chunk.length) truncated = true;
      }
      if (keep) {
        const text = Buffer.concat(chunks).toString('utf8');
        // A cut may split a character: drop the replacement character it leaves.
        files.set(path, { text: truncated ? text.replace(/\uFFFD$/, '') : text, truncated });
      }
      if (enough()) break;
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
  /** Path of the README in the repository, for relative links. */
  repositoryPath: string;
  content: Captured;
}

async function findReadme(blobs: BlobStore, blobKey: string, packageDir: string, limits: ReadmeLimits): Promise<FoundReadme | undefined> {
  const files = new Map<string, Captured>();
  let named: string | false | undefined | null = null; // null: Cargo.toml not read yet
  const field = () => {
    if (named === null && files.has('Cargo.toml')) {
      const value = readmeField(files.get('Cargo.toml'));
      named = typeof value === 'string' ? packagePath(value) : value;
    }
    return named;
  };
  const fixed = ['Cargo.toml', ORIGINAL_MANIFEST, VCS_INFO, ...DEFAULT_README_NAMES];
  const want = (path: string) => fixed.includes(path) || path === field();
  const enough = () => {
    const readme = field();
    return readme !== null && (readme === false || files.has(readme ?? DEFAULT_README_NAMES[0]!)) &&
      files.has(ORIGINAL_MANIFEST) && files.has(VCS_INFO);
  };
  const seen = await walkCrate(blobs, blobKey, packageDir, limits, files, want, enough);
  const readme = field();
  if (readme === false) return undefined;
  if (typeof readme === 'string' && !files.has(readme) && seen.has(readme)) {
    // It came before Cargo.toml in the archive: one more pass for it alone.
    await walkCrate(blobs, blobKey, packageDir, limits, files, (p) => p === readme, () => files.has(readme));
  }
  const path = typeof readme === 'string' && files.has(readme) ? readme : DEFAULT_README_NAMES.find((n) => files.has(n));
  if (path === undefined) return undefined;
  return { path, repositoryPath: repositoryPath(files, path), content: files.get(path)! };
}

/** The README's path in the repository: under `path_in_vcs`, where Cargo.toml.orig says it is. */
function repositoryPath(files: Map<string, Captured>, path: string): string {
  let folder = '';
  try {
    const info = JSON.parse(files.get(VCS_INFO)?.text ?? '{}') as { path_in_vcs?: unknown };
    if (typeof info.path_in_vcs === 'string') folder = info.path_in_vcs;
  } catch {
    // no usable VCS info: the package is taken to sit at the repository root
  }
  const original = readmeField(files.get(ORIGINAL_MANIFEST));
  return posix.join(folder, typeof original === 'string' ? original.replace(/\\/g, '/') : path);
}

const truncationNote = (limit: number) =>
  `<p class="readme-truncated"><em>This README is longer than ${Math.floor(limit / 1024)} KiB; only its beginning is shown.</em></p>`;

export class ReadmeService {
  private readonly cache: LruCache<string, { html: string | undefined }>;
  private readonly flights = new SingleFlight<string | undefined>();

  /** `cacheBytes` bounds the cached HTML (about two bytes a character). */
  constructor(
    private readonly store: MetadataStore,
    private readonly blobs: BlobStore,
    cacheBytes: number,
    private readonly limits: ReadmeLimits = DEFAULT_LIMITS,
  ) {
    this.cache = new LruCache(cacheBytes, (entry) => 2 * (entry.html?.length ?? 0) + 128);
  }

  /** The rendered README of a version, or undefined when it has none (or its archive is unreadable). */
  async readmeHtml(lowerName: string, version: string, repositoryUrl: string | null): Promise<string | undefined> {
    const key = `${lowerName}\n${version}\n${repositoryUrl ?? ''}`;
    const hit = this.cache.get(key);
    if (hit) return hit.html;
    return this.flights.run(key, async () => {
      const blob = await this.store.findVersionBlob(lowerName, version);
      if (!blob) return undefined;
      let found: FoundReadme | undefined;
      try {
        found = await findReadme(this.blobs, blob.blobKey, `${lowerName}-${version}`.toLowerCase(), this.limits);
      } catch {
        return undefined;
      }
      let html: string | undefined;
      if (found) {
        html = renderReadme(found.content.text, found.path, readmeLinkBase(repositoryUrl, found.repositoryPath));
        if (found.content.truncated) html += truncationNote(this.limits.maxReadmeBytes);
      }
      this.cache.set(key, { html });
      return html;
    });
  }
}
