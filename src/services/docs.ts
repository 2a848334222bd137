// Rustdoc hosting, the use cases (docs/rustdoc.md): docs uploaded from CI by whoever may publish
// the crate, builds queued on publish, which version `latest` is, the build status and log for the
// crate's owners, and retention of old versions' docs. Storage is DocsStore's; the build itself is
// the DocBuilder's (docs-builder.ts).

import type { AccessPolicy } from '../auth/access-policy.js';
import { notFound } from '../domain/errors.js';
import { compareVersions, tryParseVersion } from '../domain/version.js';
import type { DocBuild } from '../ports/doc-builds.js';
import type { MetadataRepositories } from '../ports/metadata-database.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { DocsStore } from './docs-store.js';
import { findVisibleCrate, isOwner, findOwners, requireOwner } from './ownership.js';
import { maxVersion } from '../domain/max-version.js';

export interface DocsSettings {
  /** `[docs] build`: queue a build on each publish. */
  build: boolean;
  /** `[docs] keep_versions`: the newest N versions keep their docs; 0: all. */
  keepVersions: number;
}

/** The docs of one readable version, resolved (`latest` made concrete). */
export interface ResolvedDocs {
  /** The crate's name as published. */
  crate: string;
  version: string;
  /** Blob prefix of the docs (DocsStore). */
  docsKey: string;
}

const docsNotFound = (name: string, version: string) =>
  notFound('docs-not-found', `there are no docs for \`${name}\` version \`${version}\``);

export class DocsService {
  constructor(
    private readonly repos: Pick<MetadataRepositories, 'crates' | 'owners' | 'docBuilds' | 'catalog'>,
    private readonly policy: AccessPolicy,
    private readonly store: DocsStore,
    private readonly settings: DocsSettings,
    private readonly now: () => number,
  ) {}

  private at(): string {
    return new Date(this.now()).toISOString();
  }

  /** The stored spelling of a version of a readable crate; not found (as for a missing crate) otherwise. */
  private async versionOf(crate: string, version: string): Promise<string> {
    const versions = (await this.repos.crates.listVersions(crate.toLowerCase())) ?? [];
    if (version === 'latest') {
      if (versions.length === 0) throw docsNotFound(crate, version);
      return maxVersion(versions);
    }
    const found = versions.find((v) => v.entry.vers === version);
    if (!found) throw notFound('version-not-found', `crate \`${crate}\` has no version \`${version}\``);
    return found.entry.vers;
  }

  /**
   * Whether the principal may upload docs of this version: decided from the URL before the body
   * (up to `docs.max_archive_size`) is read, so a stranger's upload costs no more than its headers.
   */
  async admitUpload(principal: TokenPrincipal, name: string, version: string): Promise<void> {
    const { name: crate } = await requireOwner(this.repos, this.policy, principal, name, 'publish-update');
    await this.versionOf(crate, version);
  }

  /** Stores docs uploaded by a principal who may publish the crate; a refused upload stores nothing. */
  async upload(principal: TokenPrincipal, name: string, version: string, archive: Buffer): Promise<{ crate: string; version: string }> {
    const { name: crate } = await requireOwner(this.repos, this.policy, principal, name, 'publish-update');
    const vers = await this.versionOf(crate, version);
    const lower = crate.toLowerCase();
    const docsKey = await this.store.store(lower, vers, archive);
    const { previousDocsKey } = await this.repos.docBuilds.recordUpload(lower, vers, docsKey, principal.userId, this.at());
    if (previousDocsKey !== null && previousDocsKey !== docsKey) await this.store.remove(previousDocsKey);
    await this.applyRetention(lower);
    return { crate, version: vers };
  }

  private readonly queuedListeners: (() => void)[] = [];

  /** Called after this process queued a build (the builder then looks at once). */
  onQueued(listener: () => void): void {
    this.queuedListeners.push(listener);
  }

  /**
   * After a publish committed: with the builder on, the publish queued the version's build in its
   * own transaction (services/publish.ts), so a crash cannot lose it; this wakes the builder.
   */
  published(): void {
    if (this.settings.build) for (const listener of this.queuedListeners) listener();
  }

  /** The docs a reader asks for; not found, as for a crate that does not exist, when hidden or absent. */
  async resolve(principal: TokenPrincipal | null, name: string, version: string): Promise<ResolvedDocs> {
    const crate = await findVisibleCrate(this.repos.crates, this.policy, principal, name);
    const vers = await this.versionOf(crate, version);
    const row = await this.repos.docBuilds.find(crate.toLowerCase(), vers);
    if (!row?.docsKey) throw docsNotFound(crate, vers);
    return { crate, version: vers, docsKey: row.docsKey };
  }

  /** Whether the crate's newest version has docs (the crate page and the API link to them then). */
  async hasDocs(lowerName: string, version: string): Promise<boolean> {
    return (await this.repos.docBuilds.find(lowerName, version))?.docsKey != null;
  }

  /**
   * A readable crate's metadata for the API, with `documentation` pointing at the docs hosted here
   * (`docsUrl` of the crate's newest version) when they exist, else at what its Cargo.toml said.
   */
  async crateMetadata(principal: TokenPrincipal | null, name: string, docsUrl: (crate: string) => string) {
    const crate = await findVisibleCrate(this.repos.crates, this.policy, principal, name);
    const lower = crate.toLowerCase();
    const maxVers = maxVersion((await this.repos.crates.listVersions(lower)) ?? []);
    const details = await this.repos.catalog.versionDetails(lower, maxVers);
    const hosted = await this.hasDocs(lower, maxVers);
    return {
      name: crate,
      max_version: maxVers,
      description: details?.description ?? null,
      documentation: hosted ? docsUrl(crate) : (details?.documentation ?? null),
      /** The newest version's licence expression (the crate API shows the policy's verdict on it). */
      license: details?.license ?? null,
    };
  }

  /** Builds and uploads of a crate, with their logs: for its owners (and crate admins) only. */
  async builds(principal: TokenPrincipal | null, name: string): Promise<{ crate: string; builds: DocBuild[] } | undefined> {
    const crate = await findVisibleCrate(this.repos.crates, this.policy, principal, name);
    if (!principal) return undefined;
    const owners = await findOwners(this.repos.owners, crate.toLowerCase());
    if (!this.policy.isCrateAdmin(principal, crate) && !(owners && isOwner(owners, principal))) return undefined;
    return { crate, builds: await this.repos.docBuilds.listForCrate(crate.toLowerCase()) };
  }

  /** Keeps the docs of the newest `keep_versions` versions that have docs; removes the others. */
  async applyRetention(lowerName: string): Promise<void> {
    if (this.settings.keepVersions === 0) return;
    const rows = (await this.repos.docBuilds.listForCrate(lowerName)).filter((r) => r.docsKey !== null);
    const ordered = rows
      .map((row) => ({ row, version: tryParseVersion(row.version) }))
      .sort((a, b) => (a.version && b.version ? compareVersions(b.version, a.version) : b.row.id - a.row.id));
    for (const { row } of ordered.slice(this.settings.keepVersions)) {
      const docsKey = await this.repos.docBuilds.remove(row.id);
      if (docsKey !== null) await this.store.remove(docsKey);
    }
  }
}
