// `policy check`: for each package of a Cargo.lock that this registry serves (its source is the
// main index, or one of the /mirrors/), whether the policy denies it (quarantined, held, affected
// by an advisory, refused by a licence rule), only warns about it, or lets it through: a CI gate
// before a build starts. A local crate the caller may not read, or a version nobody serves, is
// `unknown`, exactly as one that does not exist.
//
// A lockfile written under source replacement (`[source.crates-io] replace-with = "company"`, as
// docs/mirroring.md recommends) names the original source, not this registry: crates.io's is
// `registry+https://github.com/rust-lang/crates.io-index` whatever protocol cargo used. Such a
// source counts as served by the upstream that mirrors it (the first, in configuration order,
// whose `index_url` is that registry's index): cargo fetches its packages from here.

import type { AccessPolicy } from '../auth/access-policy.js';
import { isPlausibleCrateName } from '../domain/crate-name.js';
import type { MirrorService } from '../mirror/mirror-service.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { IndexFiles } from '../services/index-files.js';
import type { IndexFile } from '../domain/index-file.js';
import type { PolicyEngine } from './policy-engine.js';
import { sourceLabel } from './policy-settings.js';
import type { PolicyFinding, PolicySource } from './version-rule.js';

export interface LockedPackageRef {
  name: string;
  version: string;
  /** The lockfile's `source`, e.g. `sparse+https://crates.example.com/index/`. */
  source: string;
}

export type CheckStatus = 'ok' | 'warned' | 'denied' | 'unknown' | 'not-served';

export interface CheckedPackage extends LockedPackageRef {
  status: CheckStatus;
  /** `local`, or the upstream's name; absent when unknown or not served here. */
  served_from?: string;
  findings: readonly PolicyFinding[];
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** crates.io's source id in a Cargo.lock (git or sparse protocol alike), and the index it stands for. */
const CRATES_IO_SOURCE = 'registry+https://github.com/rust-lang/crates.io-index';
const CRATES_IO_INDEX = 'https://index.crates.io';

export class PolicyCheck {
  constructor(
    private readonly engine: PolicyEngine,
    private readonly indexFiles: Pick<IndexFiles, 'get'>,
    private readonly access: Pick<AccessPolicy, 'mayRead'>,
    private readonly mirror: MirrorService,
    private readonly publicUrl: () => string,
  ) {}

  async check(principal: TokenPrincipal | null, packages: readonly LockedPackageRef[]): Promise<CheckedPackage[]> {
    const out: CheckedPackage[] = [];
    for (const pkg of packages) out.push(await this.checkOne(principal, pkg));
    return out;
  }

  private async checkOne(principal: TokenPrincipal | null, pkg: LockedPackageRef): Promise<CheckedPackage> {
    const where = this.servedBy(pkg.source);
    if (where === undefined) return { ...pkg, status: 'not-served', findings: [] };
    const unknown: CheckedPackage = { ...pkg, status: 'unknown', findings: [] };
    const lower = pkg.name.toLowerCase();
    if (!isPlausibleCrateName(lower)) return unknown;
    const found = await this.indexFileOf(principal, where, lower);
    if (found === undefined) return unknown;
    const review = await this.engine.review(found.source, lower, found.file);
    if (!review.versions.some((v) => v.vers === pkg.version)) return unknown;
    const findings = review.findings.get(pkg.version) ?? [];
    const status: CheckStatus = review.denied.has(pkg.version) ? 'denied' : findings.length > 0 ? 'warned' : 'ok';
    return { ...pkg, status, served_from: sourceLabel(found.source), findings };
  }

  /**
   * `main` for the main index, an upstream's name for its mirror or for the registry it mirrors
   * (source replacement); undefined for another registry.
   */
  private servedBy(source: string): string | undefined {
    if (source === CRATES_IO_SOURCE) return this.upstreamMirroring(CRATES_IO_INDEX);
    if (!source.startsWith('sparse+')) return undefined;
    const url = trimSlash(source.slice('sparse+'.length));
    const base = trimSlash(this.publicUrl());
    if (url === `${base}/index`) return 'main';
    const mirror = url.startsWith(`${base}/mirrors/`) ? url.slice(`${base}/mirrors/`.length) : '';
    const name = mirror.endsWith('/index') ? mirror.slice(0, -'/index'.length) : '';
    if (name !== '' && this.mirror.get(name)) return name;
    return this.upstreamMirroring(url);
  }

  /** The first upstream (configuration order) whose index is `indexUrl` (without its last slash). */
  private upstreamMirroring(indexUrl: string): string | undefined {
    return this.mirror.names.find((name) => trimSlash(this.mirror.get(name)!.config.index_url) === indexUrl);
  }

  private async indexFileOf(
    principal: TokenPrincipal | null,
    where: string,
    lower: string,
  ): Promise<{ source: PolicySource; file: IndexFile } | undefined> {
    if (where !== 'main') {
      const file = await this.mirror.get(where)!.indexFile(lower);
      return file && { source: { kind: 'upstream', upstream: where }, file };
    }
    // As the main index answers: a local crate the caller may read, else a main-index upstream's.
    const local = await this.indexFiles.get(lower);
    if (local !== undefined) {
      if (this.access.mayRead(principal, lower)) return { source: { kind: 'local' }, file: local };
      // Hidden from the caller: as a crate no upstream has, after the same upstream lookup.
      await this.mirror.lookUpAsIfNotLocal(lower);
      return undefined;
    }
    const main = await this.mirror.mainIndexFile(lower);
    return main && { source: { kind: 'upstream', upstream: main.upstream.name }, file: main.file };
  }
}
