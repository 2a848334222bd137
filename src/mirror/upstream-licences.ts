// What the versions of upstream crates declare about their licence, for the licence rule: an
// index line does not carry it. The cheapest honest source first: the upstream's web API (the
// `api` of its config.json; crates.io answers `/api/v1/crates/<name>/versions` with every
// version's `license` in one request), then the version's `.crate` (its packaged Cargo.toml's
// `license` and `license-file`), which the mirror caches anyway and checks against the index's
// checksum. A published version's licence never changes, so facts are kept for good: in memory and
// in the blob store beside the mirror's cache (`mirror/<upstream>/licences/<crate>.json`), shared
// by replicas; a lost file is only looked up again. Look-ups run in the background with bounded
// concurrency; a read waits only for the few newest versions it lacks (the ones cargo most likely
// resolves to), never for all of them. A version not known yet is absent from the answer: the
// rule holds it back (fail closed) until the look-up lands, and the revision changes then.

import type { Logger } from 'pino';
import type { DeclaredLicence } from '../domain/licence-policy.js';
import { compareVersions, tryParseVersion } from '../domain/version.js';
import { LruCache } from '../lib/lru-cache.js';
import { SingleFlight } from '../lib/single-flight.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MirroredCrate, UpstreamMirror } from './upstream-mirror.js';

export interface VersionToLookUp {
  /** The crate's name as its index line spells it. */
  name: string;
  vers: string;
  yanked: boolean;
}

/** Reads what a `.crate`'s Cargo.toml declares (the wiring runs it on the CPU pool). */
export type CrateLicenceReader = (crate: Buffer, name: string, version: string) => Promise<DeclaredLicence>;

/** What is needed of an upstream mirror (upstream-mirror.ts). */
export type LicenceSource = Pick<UpstreamMirror, 'name' | 'apiGet' | 'crate'>;

export interface UpstreamLicencesOptions {
  upstreams: { get(name: string): LicenceSource | undefined };
  blobs: BlobStore;
  readCrateLicence: CrateLicenceReader;
  log: Logger;
  /** Look-ups (API requests, .crate reads) in flight at once, for every upstream together. */
  concurrency?: number;
  /** How many of the newest unknown versions a read waits for. */
  waitForNewest?: number;
}

type Facts = Map<string, DeclaredLicence>;

const CRATES_IN_MEMORY = 20_000;

async function bytesOf(crate: MirroredCrate): Promise<Buffer> {
  if (crate.bytes) return crate.bytes;
  const chunks: Buffer[] = [];
  for await (const chunk of crate.stream!) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The `license` of each version in a crates.io-style answer of `/api/v1/crates/<name>/versions`. */
function licencesOfApiAnswer(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const answer = JSON.parse(body.toString('utf8')) as { versions?: unknown };
  if (!Array.isArray(answer.versions)) return out;
  for (const v of answer.versions as Array<{ num?: unknown; license?: unknown }>) {
    if (typeof v?.num === 'string' && typeof v.license === 'string' && v.license.trim() !== '') out.set(v.num, v.license);
  }
  return out;
}

export class UpstreamLicences {
  private readonly memory = new LruCache<string, Facts>(CRATES_IN_MEMORY);
  private readonly loads = new SingleFlight<Facts>();
  /** In-flight look-ups by `upstream\ncrate\nvers`. */
  private readonly lookups = new Map<string, Promise<void>>();
  /** Look-ups of a whole crate through the API, by `upstream\ncrate`. */
  private readonly apiLookups = new Map<string, Promise<void>>();
  /** Upstreams with no usable API (none named, or it does not know the versions route): not asked again until a restart. */
  private readonly noApi = new Set<string>();
  private readonly saves = new Map<string, Promise<void>>();
  /** Crates whose facts changed while their save was under way. */
  private readonly dirty = new Set<string>();
  private readonly waiting: Array<() => void> = [];
  private running = 0;
  private learnt = 0;
  private readonly concurrency: number;
  private readonly waitForNewest: number;

  constructor(private readonly options: UpstreamLicencesOptions) {
    this.concurrency = options.concurrency ?? 4;
    this.waitForNewest = options.waitForNewest ?? 3;
  }

  /** Changes whenever a fact is learnt. */
  revision(): string {
    return `l${this.learnt}`;
  }

  /** What the versions declare, by `vers`; versions not known yet are absent (their look-up is under way). */
  async declared(upstream: string, crate: string, versions: readonly VersionToLookUp[]): Promise<Map<string, DeclaredLicence>> {
    const mirror = this.options.upstreams.get(upstream);
    if (!mirror) return new Map();
    const facts = await this.factsOf(upstream, crate);
    const unknown = versions.filter((v) => !facts.has(v.vers));
    if (unknown.length === 0) return facts;
    const started = new Map(unknown.map((v) => [v.vers, this.lookUp(mirror, crate, v, facts)]));
    const newest = unknown
      .filter((v) => !v.yanked)
      .map((v) => ({ v, parsed: tryParseVersion(v.vers) }))
      .filter((x) => x.parsed !== undefined)
      .sort((a, b) => compareVersions(b.parsed!, a.parsed!))
      .slice(0, this.waitForNewest);
    await Promise.all(newest.map(({ v }) => started.get(v.vers)));
    return facts;
  }

  private async factsOf(upstream: string, crate: string): Promise<Facts> {
    const key = `${upstream}\n${crate}`;
    const cached = this.memory.get(key);
    if (cached) return cached;
    return this.loads.run(key, async () => {
      const facts: Facts = new Map();
      try {
        const opened = await this.options.blobs.open(this.blobKey(upstream, crate));
        if (opened) {
          const chunks: Buffer[] = [];
          for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
          const stored = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, DeclaredLicence>;
          for (const [vers, fact] of Object.entries(stored)) facts.set(vers, fact);
        }
      } catch (error) {
        this.options.log.warn({ err: error, upstream, crate }, 'reading cached licence facts failed; they are looked up again');
      }
      this.memory.set(key, facts);
      return facts;
    });
  }

  private blobKey(upstream: string, crate: string): string {
    return `mirror/${upstream}/licences/${crate}.json`;
  }

  /** Resolves when the version's licence is known, or its look-up failed (then it stays unknown). */
  private lookUp(mirror: LicenceSource, crate: string, version: VersionToLookUp, facts: Facts): Promise<void> {
    const key = `${mirror.name}\n${crate}\n${version.vers}`;
    let running = this.lookups.get(key);
    if (!running) {
      running = this.fromApi(mirror, crate, facts)
        .then(() => (facts.has(version.vers) ? undefined : this.limited(() => this.fromCrate(mirror, crate, version, facts))))
        .catch((error: unknown) =>
          this.options.log.warn(
            { err: error, upstream: mirror.name, crate, version: version.vers },
            'looking up the licence of an upstream version failed; it stays held back by the licence rule',
          ),
        )
        .finally(() => this.lookups.delete(key));
      this.lookups.set(key, running);
    }
    return running;
  }

  /** One API request for every version of the crate, when the upstream has a usable API. */
  private fromApi(mirror: LicenceSource, crate: string, facts: Facts): Promise<void> {
    if (this.noApi.has(mirror.name)) return Promise.resolve();
    const key = `${mirror.name}\n${crate}`;
    let running = this.apiLookups.get(key);
    if (!running) {
      running = this.limited(async () => {
        let response;
        try {
          response = await mirror.apiGet(`api/v1/crates/${encodeURIComponent(crate)}/versions`);
        } catch (error) {
          this.options.log.warn(
            { err: error, upstream: mirror.name, crate },
            'the upstream API did not answer; reading .crate files instead',
          );
          return;
        }
        if (response === undefined || response.status !== 200) {
          // No API, or not this one (another cratekeeper has none): the .crate files it is, for good.
          if (response === undefined || response.status === 404 || response.status === 405) this.noApi.add(mirror.name);
          return;
        }
        let licences: Map<string, string>;
        try {
          licences = licencesOfApiAnswer(response.body);
        } catch {
          this.noApi.add(mirror.name);
          return;
        }
        for (const [vers, license] of licences) if (!facts.has(vers)) this.learn(mirror.name, crate, facts, vers, { license });
      }).finally(() => this.apiLookups.delete(key));
      this.apiLookups.set(key, running);
    }
    return running;
  }

  private async fromCrate(mirror: LicenceSource, crate: string, version: VersionToLookUp, facts: Facts): Promise<void> {
    const bytes = await bytesOf(await mirror.crate(version.name, version.vers));
    const declared = await this.options.readCrateLicence(bytes, version.name, version.vers);
    this.learn(mirror.name, crate, facts, version.vers, { license: declared.license ?? null, licenseFile: declared.licenseFile ?? null });
  }

  private learn(upstream: string, crate: string, facts: Facts, vers: string, fact: DeclaredLicence): void {
    facts.set(vers, fact);
    this.learnt++;
    this.scheduleSave(upstream, crate, facts);
  }

  /** Resolves when the facts learnt so far are in the blob store (or their write failed and was logged). */
  async flush(): Promise<void> {
    while (this.saves.size > 0) await Promise.all(this.saves.values());
  }

  /** Writes the crate's facts to the blob store, one write at a time per crate, coalescing bursts. */
  private scheduleSave(upstream: string, crate: string, facts: Facts): void {
    const key = `${upstream}\n${crate}`;
    if (this.saves.has(key)) {
      this.dirty.add(key); // written again once the save under way ends
      return;
    }
    const save = Promise.resolve()
      .then(() => this.options.blobs.put(this.blobKey(upstream, crate), Buffer.from(JSON.stringify(Object.fromEntries(facts)))))
      .catch((error: unknown) => this.options.log.warn({ err: error, upstream, crate }, 'caching licence facts failed'))
      .finally(() => {
        this.saves.delete(key);
        if (this.dirty.delete(key)) this.scheduleSave(upstream, crate, facts);
      });
    this.saves.set(key, save);
  }

  /** Runs `work` when one of the `concurrency` slots is free; a finished one hands its slot to the next waiting. */
  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running < this.concurrency) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
