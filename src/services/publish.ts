// Publishing a version: validate everything first (metadata, names, dependencies, the tarball),
// store the .crate under a content-addressed key, then commit the version in one transaction. A
// crash before the commit leaves at most an unreferenced blob; after it, the complete version.

import { createHash } from 'node:crypto';
import { inspectCrateTarball } from '../domain/crate-tarball.js';
import { normalizeCrateName, parseCrateName } from '../domain/crate-name.js';
import { invalid } from '../domain/errors.js';
import { formatPubtime, splitFeatures, type IndexDependency, type IndexEntry } from '../domain/index-line.js';
import { parsePublishBody, type PublishDependency, type PublishMetadata } from '../domain/publish-body.js';
import { crateNameTaken, notAnOwner, versionExists } from '../domain/publish-conflicts.js';
import { parseVersion, tryParseVersion, versionKey, type Version } from '../domain/version.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import { assertTokenAllows } from '../auth/token-permissions.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { MetadataStore, TokenPrincipal, VersionDetails } from '../ports/metadata-store.js';
import type { FaultPoints } from './fault-points.js';
import type { IndexFiles } from './index-files.js';
import { findOwners, isOwner } from './ownership.js';
import type { RateLimiter } from './rate-limiter.js';

export interface PublishSettings {
  maxUnpackedSize: number;
  /** Index URLs of other registries that dependencies may come from. */
  allowedRegistries: string[];
}

export interface PublishResult {
  name: string;
  version: string;
  newCrate: boolean;
  warnings: { invalid_categories: string[]; invalid_badges: string[]; other: string[] };
}

function sameRegistryUrl(a: string, b: string): boolean {
  const canonical = (url: string) => url.replace(/^sparse\+/, '').replace(/\/+$/, '');
  return canonical(a) === canonical(b);
}

function toDetails(m: PublishMetadata): VersionDetails {
  return {
    description: m.description ?? null,
    license: m.license ?? null,
    repository: m.repository ?? null,
    homepage: m.homepage ?? null,
    documentation: m.documentation ?? null,
    readme: m.readme ?? null,
    keywords: m.keywords ?? [],
    categories: m.categories ?? [],
    authors: m.authors ?? [],
  };
}

export class PublishService {
  /** Set by the wiring: refuses a new crate name that an upstream has (dependency confusion). */
  nameGuard?: (name: string) => Promise<void>;
  /** Versions committed by this process (read by /metrics). */
  published = 0;

  constructor(
    private readonly store: MetadataStore,
    private readonly blobs: BlobStore,
    private readonly indexFiles: IndexFiles,
    private readonly policy: AccessPolicy,
    private readonly limiter: RateLimiter,
    private readonly settings: PublishSettings,
    private readonly fault: FaultPoints,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async toIndexDependency(dep: PublishDependency, index: number): Promise<IndexDependency> {
    const where = `dependency ${index + 1} (\`${dep.name}\`)`;
    const registry = dep.registry ?? null;
    if (registry !== null) {
      if (!this.settings.allowedRegistries.some((allowed) => sameRegistryUrl(allowed, registry))) {
        throw invalid(
          'dependency-registry-not-allowed',
          `${where} comes from registry ${registry}, which this registry does not allow (publish.allowed_registries)`,
        );
      }
    } else {
      parseCrateName(dep.name);
      const existing = await this.store.findCrateName(normalizeCrateName(dep.name));
      if (existing !== dep.name) {
        throw invalid('dependency-not-found', `${where}: no crate named \`${dep.name}\` exists in this registry`);
      }
    }
    const alias = dep.explicit_name_in_toml ?? null;
    return {
      name: alias ?? dep.name,
      req: dep.version_req,
      features: dep.features,
      optional: dep.optional,
      default_features: dep.default_features,
      target: dep.target,
      kind: dep.kind,
      registry,
      package: alias !== null ? dep.name : null,
    };
  }

  /**
   * Who may publish (token scope and patterns; for a new crate the access rules) and the store's
   * conflict checks, all made before anything is written (see publish-conflicts.ts).
   */
  private async assertPublishable(publisher: TokenPrincipal, name: string, version: Version): Promise<void> {
    const existing = await this.store.findCrateName(normalizeCrateName(name));
    if (existing === undefined) await this.nameGuard?.(name);
    if (existing === undefined) {
      assertTokenAllows(publisher, 'publish-new', name);
      this.policy.assertMayPublishNew(publisher, name);
      return;
    }
    assertTokenAllows(publisher, 'publish-update', name);
    if (existing !== name) throw crateNameTaken(existing, name);
    const owners = await findOwners(this.store, name.toLowerCase());
    if (!owners || !isOwner(owners, publisher)) throw notAnOwner(name);
    const key = versionKey(version);
    for (const { entry } of (await this.store.listVersions(name.toLowerCase())) ?? []) {
      const stored = tryParseVersion(entry.vers);
      if (stored && versionKey(stored) === key) throw versionExists(name, entry.vers);
    }
  }

  /** After a failed commit, removes our blob unless a committed version points at the same bytes. */
  private async discardBlob(name: string, version: string, blobKey: string): Promise<void> {
    const committed = await this.store.findVersionBlob(name.toLowerCase(), version);
    if (committed?.blobKey !== blobKey) await this.blobs.delete(blobKey);
  }

  async publish(publisher: TokenPrincipal, body: Buffer): Promise<PublishResult> {
    this.limiter.take(`user:${publisher.userId}`);
    const { metadata, crate } = parsePublishBody(body);
    const name = parseCrateName(metadata.name);
    const version = parseVersion(metadata.vers);
    const deps: IndexDependency[] = [];
    for (const [i, dep] of metadata.deps.entries()) deps.push(await this.toIndexDependency(dep, i));
    await inspectCrateTarball(crate, { name, version: version.raw }, { maxUnpackedBytes: this.settings.maxUnpackedSize });
    await this.assertPublishable(publisher, name, version);

    const cksum = createHash('sha256').update(crate).digest('hex');
    const publishedAt = this.now();
    const entry: IndexEntry = {
      name,
      vers: version.raw,
      deps,
      cksum,
      ...splitFeatures(metadata.features),
      links: metadata.links ?? null,
      rust_version: metadata.rust_version ?? null,
      pubtime: formatPubtime(publishedAt),
    };
    const blobKey = `crates/${name.toLowerCase()}/${version.raw}/${cksum}.crate`;
    await this.blobs.put(blobKey, crate);
    this.fault('publish-after-blob');

    let newCrate: boolean;
    try {
      ({ newCrate } = await this.store.publishVersion({
        entry,
        versionKey: versionKey(version),
        normalizedName: normalizeCrateName(name),
        blobKey,
        size: crate.length,
        details: toDetails(metadata),
        publisherId: publisher.userId,
        publishedAt: publishedAt.toISOString(),
      }));
    } catch (error) {
      await this.discardBlob(name, version.raw, blobKey);
      throw error;
    }
    this.published++;
    this.indexFiles.invalidate(name.toLowerCase());
    this.fault('publish-after-commit');
    return {
      name,
      version: version.raw,
      newCrate,
      warnings: { invalid_categories: [], invalid_badges: [], other: [] },
    };
  }
}
