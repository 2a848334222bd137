// Publishing a version. Order before cost: before the body is read, the token must be able to
// publish at all and its user be within the rate limit (admit); then, from the small metadata, who
// may publish what (scopes, crate patterns, access rules, ownership, name, version, dependencies);
// only then the tarball check, on a worker thread, streamed with bounded memory. Then the .crate is
// stored under a content-addressed key and the version committed in one transaction. A crash
// before the commit leaves at most an unreferenced blob; after it, the complete version.
// A crate the publisher may not read is answered exactly as a free name would be: no refusal
// tells a stranger that a hidden crate exists.

import { createHash } from 'node:crypto';
import { normalizeCrateName, parseCrateName } from '../domain/crate-name.js';
import { forbidden, invalid, RegistryError } from '../domain/errors.js';
import type { DeclaredLicence } from '../domain/licence-policy.js';
import { formatPubtime, splitFeatures, type IndexDependency, type IndexEntry } from '../domain/index-line.js';
import { parsePublishBody, type PublishDependency, type PublishMetadata } from '../domain/publish-body.js';
import { crateNameTaken, notAnOwner, versionExists } from '../domain/publish-conflicts.js';
import { parseVersion, tryParseVersion, versionKey, type Version } from '../domain/version.js';
import { newOccurrence } from '../domain/webhook-events.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import { assertTokenAllows, hasScope } from '../auth/token-permissions.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Crates, NewVersion, VersionDetails } from '../ports/crates.js';
import type { MetadataDatabase } from '../ports/metadata-database.js';
import type { Owners } from '../ports/owners.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { CpuPool } from './cpu-pool.js';
import type { FaultPoints } from './fault-points.js';
import type { IndexFiles } from './index-files.js';
import { findOwners, isOwner } from './ownership.js';
import type { RateLimiter } from '../lib/rate-limiter.js';

export interface PublishSettings {
  maxUnpackedSize: number;
  maxFiles: number;
  maxManifestSize: number;
  maxMetadataSize: number;
  /** Index URLs of other registries that dependencies may come from. */
  allowedRegistries: string[];
}

/** Decides whether a name is free for a new local crate (mirror/mirror-service.ts is one). */
export interface LocalNameGuard {
  /** Throws when a new crate must not take the name; resolves when it may. */
  assertLocalNameFree(name: string): Promise<void>;
  /**
   * Whether the main index serves a crate of exactly this name from an upstream (`main_index =
   * true`): a dependency on it through this registry resolves, like one on a local crate.
   */
  servesInMainIndex(name: string): Promise<boolean>;
  /** The lookups `servesInMainIndex` makes for a name no local crate has, for a local crate the publisher may not read. */
  lookUpAsIfNotLocal(lowerName: string): Promise<void>;
}

/** Judges a new version's declared licence against the registry's licence rule (policy/licence-rule.ts). */
export interface PublishLicenceCheck {
  /**
   * `no-rule` when the registry has no licence rule; else throws `licence-refused` when the rule
   * refuses the licence, or returns a warning for cargo when it only warns about it.
   */
  checkPublish(crate: string, version: string, declared: DeclaredLicence): 'no-rule' | { warning?: string };
}

export interface PublishDeps {
  crates: Crates;
  /** A version, its webhook event and its docs build commit together (one unit of work). */
  database: Pick<MetadataDatabase, 'transaction'>;
  /** `[docs] build`: queue a docs build with each version. */
  buildDocs: boolean;
  owners: Owners;
  blobs: BlobStore;
  indexFiles: IndexFiles;
  policy: AccessPolicy;
  /** Publishes per user. */
  limiter: RateLimiter;
  /** Runs the tarball check off the event loop. */
  cpu: CpuPool;
  /** Refuses a new crate name that an upstream has (dependency confusion): the mirror. */
  nameGuard: LocalNameGuard;
  settings: PublishSettings;
  /** The registry's licence rule; absent: none. */
  licences?: PublishLicenceCheck;
  fault: FaultPoints;
  now?: () => Date;
}

/** Longest tarball check; the limits make a legitimate one take a fraction of this. */
const TARBALL_CHECK_TIMEOUT_MS = 30_000;

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

/**
 * Under a licence rule, the licence judged (the publish metadata's) must be the one the packaged
 * Cargo.toml declares: a hand-made publish body could otherwise pass the rule with a licence the
 * crate does not carry. cargo fills both from the same manifest. (`license-file` is not compared:
 * cargo rewrites its path when it packs a file from outside the package.)
 */
function assertSameLicence(metadata: DeclaredLicence, packaged: DeclaredLicence): void {
  if ((metadata.license ?? null) === (packaged.license ?? null)) return;
  throw invalid(
    'crate-metadata-mismatch',
    `the crate's Cargo.toml declares license \`${packaged.license ?? '(none)'}\`, but the publish metadata says \`${metadata.license ?? '(none)'}\``,
  );
}

export class PublishService {
  /** Versions committed by this process (read by /metrics). */
  published = 0;
  /** Publishes this process refused for their licence (read by /metrics). */
  refusedByLicence = 0;
  private readonly crates: Crates;
  private readonly policy: AccessPolicy;
  private readonly settings: PublishSettings;
  private readonly now: () => Date;

  constructor(private readonly deps: PublishDeps) {
    this.crates = deps.crates;
    this.policy = deps.policy;
    this.settings = deps.settings;
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Before the body is read: the token can publish something, and its user is within the rate
   * limit. A read-only token is refused without a byte of the upload being looked at.
   */
  admit(publisher: TokenPrincipal): void {
    if (!hasScope(publisher, 'publish-new') && !hasScope(publisher, 'publish-update')) {
      throw forbidden(
        'token-scope-missing',
        `this token lacks the \`publish-new\` and \`publish-update\` scopes (it has: ${publisher.scopes!.join(', ')})`,
      );
    }
    this.deps.limiter.take(`user:${publisher.userId}`);
  }

  /** A dependency as the index records it; one on this registry must name a crate the publisher can see. */
  private async toIndexDependency(
    publisher: TokenPrincipal,
    dep: PublishDependency,
    index: number,
    names: Map<string, Promise<string | undefined>>,
  ): Promise<IndexDependency> {
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
      const normal = normalizeCrateName(dep.name);
      if (!names.has(normal)) names.set(normal, this.crates.findCrateName(normal));
      const existing = await names.get(normal);
      // A crate the publisher may not read is as unknown as one that does not exist. A name no
      // local crate has may be an upstream's, served through the main index.
      const hidden = existing !== undefined && !this.policy.mayRead(publisher, existing);
      // Refused as a name no local crate has, after the same upstream lookup.
      if (hidden) await this.deps.nameGuard.lookUpAsIfNotLocal(existing.toLowerCase()).catch(() => {});
      const local = existing === dep.name && !hidden;
      const mirrored = existing === undefined && (await this.servedInMainIndex(dep.name));
      if (!local && !mirrored) {
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

  private async servedInMainIndex(name: string): Promise<boolean> {
    try {
      return await this.deps.nameGuard.servesInMainIndex(name);
    } catch {
      return false; // an upstream that cannot be asked serves nothing now; the publish is refused as before
    }
  }

  private async indexDependencies(publisher: TokenPrincipal, deps: PublishDependency[]): Promise<IndexDependency[]> {
    const names = new Map<string, Promise<string | undefined>>();
    const out: IndexDependency[] = [];
    for (const [i, dep] of deps.entries()) out.push(await this.toIndexDependency(publisher, dep, i, names));
    return out;
  }

  /**
   * Who may publish (token scope and patterns; for a new crate the access rules and the name
   * guard) and the store's conflict checks, all made before anything expensive (see
   * publish-conflicts.ts). A crate the publisher may not read takes the new-crate path, so its
   * refusal is the one a free name under the same rules gets.
   */
  private async assertPublishable(publisher: TokenPrincipal, name: string, version: Version): Promise<void> {
    const existing = await this.crates.findCrateName(normalizeCrateName(name));
    const visible = existing !== undefined && this.policy.mayRead(publisher, existing);
    if (!visible) {
      assertTokenAllows(publisher, 'publish-new', name);
      this.policy.assertMayPublishNew(publisher, name);
      await this.deps.nameGuard.assertLocalNameFree(name);
      // The access rules let nobody create crates they may not read, so this is never reached.
      if (existing !== undefined) throw new Error(`the access rules let ${publisher.login} publish ${name} but not read it`);
      return;
    }
    assertTokenAllows(publisher, 'publish-update', name);
    if (existing !== name) throw crateNameTaken(existing, name);
    const owners = await findOwners(this.deps.owners, name.toLowerCase());
    if (!owners || !isOwner(owners, publisher)) throw notAnOwner(name);
    const key = versionKey(version);
    for (const { entry } of (await this.crates.listVersions(name.toLowerCase())) ?? []) {
      const stored = tryParseVersion(entry.vers);
      if (stored && versionKey(stored) === key) throw versionExists(name, entry.vers);
    }
  }

  /** The tarball check, on a worker thread: the event loop serving the index never waits for it. */
  private async checkTarball(crate: Buffer, name: string, version: string): Promise<{ licence: DeclaredLicence }> {
    return this.deps.cpu.run(
      'inspectCrate',
      {
        crate,
        expected: { name, version },
        limits: {
          maxUnpackedBytes: this.settings.maxUnpackedSize,
          maxEntries: this.settings.maxFiles,
          maxManifestBytes: this.settings.maxManifestSize,
        },
      },
      {
        timeoutMs: TARBALL_CHECK_TIMEOUT_MS,
        onTimeout: () =>
          invalid('crate-check-timeout', `checking the crate file took longer than ${TARBALL_CHECK_TIMEOUT_MS / 1000} s; it is refused`),
      },
    );
  }

  /** After a failed commit, removes our blob unless a committed version points at the same bytes. */
  private async discardBlob(name: string, version: string, blobKey: string): Promise<void> {
    const committed = await this.crates.findVersionBlob(name.toLowerCase(), version);
    if (committed?.blobKey !== blobKey) await this.deps.blobs.delete(blobKey);
  }

  /** Publishes one version from cargo's body; the route calls admit() before reading the body. */
  /**
   * Commits the version with what must never be lost after it: its webhook event and, with the
   * builder on, its docs build. Inside a unit of work the store cannot retry a lost race to create
   * a new crate (PostgreSQL), so the whole unit is tried once more: it then sees the winner's crate.
   */
  private async commitVersion(publisher: TokenPrincipal, v: NewVersion, retried = false): Promise<boolean> {
    try {
      return await this.deps.database.transaction(async (repos) => {
        const { newCrate } = await repos.crates.publishVersion(v);
        const crate = v.entry.name;
        const version = v.entry.vers;
        const detail = newCrate ? 'new crate' : null;
        await repos.webhookDeliveries.recordEvent(
          newOccurrence('publish', { crate, version, actor: publisher.login, detail }, v.publishedAt),
        );
        if (this.deps.buildDocs) await repos.docBuilds.enqueue(crate.toLowerCase(), version, v.publishedAt);
        return newCrate;
      });
    } catch (error) {
      if (!retried && error instanceof RegistryError && error.code === 'version-exists') return this.commitVersion(publisher, v, true);
      throw error;
    }
  }

  async publish(publisher: TokenPrincipal, body: Buffer): Promise<PublishResult> {
    const { metadata, crate } = parsePublishBody(body, { maxMetadataBytes: this.settings.maxMetadataSize });
    const name = parseCrateName(metadata.name);
    const version = parseVersion(metadata.vers);
    await this.assertPublishable(publisher, name, version);
    const declared = { license: metadata.license ?? null, licenseFile: metadata.license_file ?? null };
    let licence: ReturnType<PublishLicenceCheck['checkPublish']> = 'no-rule';
    try {
      licence = this.deps.licences?.checkPublish(name, version.raw, declared) ?? 'no-rule';
    } catch (error) {
      this.refusedByLicence++;
      throw error;
    }
    const deps = await this.indexDependencies(publisher, metadata.deps);
    const packaged = await this.checkTarball(crate, name, version.raw);
    if (licence !== 'no-rule') assertSameLicence(declared, packaged.licence);

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
    await this.deps.blobs.put(blobKey, crate);
    this.deps.fault('publish-after-blob');

    let newCrate: boolean;
    try {
      newCrate = await this.commitVersion(publisher, {
        entry,
        versionKey: versionKey(version),
        normalizedName: normalizeCrateName(name),
        blobKey,
        size: crate.length,
        details: toDetails(metadata),
        publisherId: publisher.userId,
        publishedAt: publishedAt.toISOString(),
      });
    } catch (error) {
      await this.discardBlob(name, version.raw, blobKey);
      throw error;
    }
    this.published++;
    this.deps.indexFiles.invalidate(name.toLowerCase());
    this.deps.fault('publish-after-commit');
    return {
      name,
      version: version.raw,
      newCrate,
      warnings: { invalid_categories: [], invalid_badges: [], other: licence !== 'no-rule' && licence.warning ? [licence.warning] : [] },
    };
  }
}
