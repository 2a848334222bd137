// All configured upstreams, and the rules between them and the local registry: upstreams with
// `main_index = true` also answer in the main index (in configuration order), where a crate name
// that exists locally is never served from an upstream; (each /mirrors/<name>/ registry is the
// upstream's own source, as cargo's source replacement expects, so it serves the upstream as is); and a new local crate
// may not take a name that an upstream has, served or not, or that an offline upstream cannot
// vouch for (dependency confusion), unless that upstream's `local_names` allows it.

import pino, { type Logger } from 'pino';
import type { Config } from '../config/schema.js';
import { normalizeCrateName } from '../domain/crate-name.js';
import { conflict, type RegistryError } from '../domain/errors.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Crates } from '../ports/crates.js';
import { LruCache } from '../lib/lru-cache.js';
import type { CachedFile } from './cached-file.js';
import type { MirrorStatus } from './mirror-stats.js';
import { SecretOrigins } from './secret-origins.js';
import { upstreamCredentials } from './upstream-credentials.js';
import { UpstreamHttp } from './upstream-http.js';
import { unavailable, UpstreamMirror, type MirroredCrate } from './upstream-mirror.js';

const MEMORY_PER_UPSTREAM = 16 * 1024 ** 2;

const LOCAL_NAMES_ADVICE =
  "Publish under another name or, if a local crate of that name is intended, ask an administrator to add it to that upstream's " +
  'local_names (a prefix pattern such as `mycompany-*` frees all your own crates at once)';

function nameTaken(name: string, upstream: UpstreamMirror): RegistryError {
  const hidden = upstream.blessed(name) ? '' : ' (its allow and deny lists do not serve it now, but a later change to them would)';
  return conflict(
    'crate-name-upstream',
    `the name \`${name}\` belongs to a crate on upstream \`${upstream.name}\`${hidden}; a local crate of that name would shadow it ` +
      `(dependency confusion). ${LOCAL_NAMES_ADVICE}`,
  );
}

function nameUnverifiable(name: string, upstream: UpstreamMirror): RegistryError {
  return conflict(
    'crate-name-unverifiable',
    `upstream \`${upstream.name}\` is offline and has nothing cached for \`${name}\`, so cratekeeper cannot tell whether it has a crate named \`${name}\`; ` +
      `a local crate of that name could shadow one (dependency confusion), so the name is not free. ${LOCAL_NAMES_ADVICE}`,
  );
}

function nameOfLine(line: string): unknown {
  try {
    return (JSON.parse(line) as { name?: unknown }).name;
  } catch {
    return undefined; // cargo skips lines it cannot parse; so do we
  }
}

export class MirrorService {
  private readonly upstreams = new Map<string, UpstreamMirror>();
  private readonly https: UpstreamHttp[] = [];
  /** Normal name → whether a local crate has it; forgotten on every change to that crate. */
  private readonly local = new LruCache<string, boolean>(100_000);

  constructor(
    config: Config,
    blobs: BlobStore,
    private readonly crates: Pick<Crates, 'findCrateName'>,
    env: NodeJS.ProcessEnv,
    logger?: Logger,
  ) {
    const log = logger ?? pino({ level: config.log.level }, pino.destination(2));
    for (const [i, upstream] of config.upstreams.entries()) {
      const http = new UpstreamHttp({
        credentials: upstreamCredentials(upstream, i, env),
        proxy: upstream.proxy,
        headers: upstream.headers,
        secretOrigins: new SecretOrigins(upstream.index_url, upstream.credential_origins),
      });
      this.https.push(http);
      this.upstreams.set(upstream.name, new UpstreamMirror(upstream, http, blobs, log, MEMORY_PER_UPSTREAM));
    }
  }

  get names(): string[] {
    return [...this.upstreams.keys()];
  }

  get(name: string): UpstreamMirror | undefined {
    return this.upstreams.get(name);
  }

  get hasMainIndexUpstreams(): boolean {
    return [...this.upstreams.values()].some((u) => u.config.main_index);
  }

  /** Forgets what is known about a local crate (the change feed calls it on every change). */
  forgetLocal(lowerName: string): void {
    this.local.delete(normalizeCrateName(lowerName));
  }

  async isLocal(name: string): Promise<boolean> {
    const normal = normalizeCrateName(name);
    let known = this.local.get(normal);
    if (known === undefined) {
      known = (await this.crates.findCrateName(normal)) !== undefined;
      this.local.set(normal, known);
    }
    return known;
  }

  /** For the main index: the first main-index upstream that has the (non-local) crate, and its file. */
  mainIndexFile(lowerName: string): Promise<{ upstream: UpstreamMirror; file: CachedFile } | undefined> {
    return this.mainUpstreamOf(lowerName);
  }

  /** A main-index download of a crate that is not local; undefined when no upstream has it. */
  async mainCrate(name: string, version: string): Promise<MirroredCrate | undefined> {
    const found = await this.mainUpstreamOf(name.toLowerCase());
    return found?.upstream.crate(name, version);
  }

  /**
   * Whether the main index serves a crate of exactly this name from an upstream (a local crate's
   * name never is): what a local crate may depend on through this registry besides local crates.
   */
  async servesInMainIndex(name: string): Promise<boolean> {
    const found = await this.mainUpstreamOf(name.toLowerCase());
    if (!found) return false;
    return found.file.body
      .toString('utf8')
      .split('\n')
      .some((line) => line.includes(name) && nameOfLine(line) === name);
  }

  /**
   * For a local crate the caller may not read: the upstream lookups that the main index makes for
   * a crate that is not local, their answer unused, so that the time of the caller's answer does
   * not tell a hidden crate from one that does not exist.
   */
  async lookUpAsIfNotLocal(lowerName: string): Promise<void> {
    if (!this.hasMainIndexUpstreams) return;
    await this.isLocal(lowerName);
    await this.firstMainUpstreamWith(lowerName);
  }

  private async mainUpstreamOf(lowerName: string): Promise<{ upstream: UpstreamMirror; file: CachedFile } | undefined> {
    if (!this.hasMainIndexUpstreams || (await this.isLocal(lowerName))) return undefined;
    return this.firstMainUpstreamWith(lowerName);
  }

  private async firstMainUpstreamWith(lowerName: string): Promise<{ upstream: UpstreamMirror; file: CachedFile } | undefined> {
    for (const upstream of this.upstreams.values()) {
      if (!upstream.config.main_index) continue;
      const file = await upstream.indexFile(lowerName).catch(() => undefined);
      if (file) return { upstream, file };
    }
    return undefined;
  }

  /**
   * Throws when a new local crate would take a name that an upstream may serve (dependency
   * confusion), now or after a change to its configuration: a name it has counts even when its
   * allow or deny list keeps it from being served today. Fails closed: an upstream that cannot be
   * asked (unreachable; or offline with nothing cached for the name) counts as having it. Only the
   * upstream's `local_names` frees a name.
   */
  async assertLocalNameFree(name: string): Promise<void> {
    const lower = name.toLowerCase();
    const variants = [...new Set([lower, lower.replaceAll('-', '_'), lower.replaceAll('_', '-')])];
    for (const upstream of this.upstreams.values()) {
      if (upstream.localNameAllowed(name)) continue;
      let unknown = false;
      for (const variant of variants) {
        let has;
        try {
          has = await upstream.hasCrate(variant);
        } catch {
          throw unavailable(
            'upstream-unavailable',
            `cannot check whether upstream \`${upstream.name}\` has a crate named \`${name}\` (it is unreachable); try again later`,
          );
        }
        if (has === 'yes') throw nameTaken(name, upstream);
        if (has === 'unknown') unknown = true;
      }
      if (unknown) throw nameUnverifiable(name, upstream);
    }
  }

  async status(): Promise<Array<{ name: string; offline: boolean; indexUrl: string; status: MirrorStatus }>> {
    const out = [];
    for (const upstream of this.upstreams.values()) {
      out.push({
        name: upstream.name,
        offline: upstream.config.offline,
        indexUrl: upstream.config.index_url,
        status: await upstream.stats.read(),
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((u) => u.close()));
    for (const http of this.https) http.close();
  }
}
