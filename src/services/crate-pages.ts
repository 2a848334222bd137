// What a crate's web page shows, assembled for one viewer: the crate and the chosen version, its
// dependencies (linked only to local crates the viewer may read), owners, and download counts.
// A crate the viewer may not read is "not found", exactly like one that does not exist.
// Pages are rendered on every view, so their cost must not grow much with what a publisher chose:
// versions are sorted with each parsed once, and only the first MAX_DEPENDENCIES_SHOWN dependencies
// are looked up and shown (pages/crate-page.ts bounds the other tables).

import type { AccessPolicy } from '../auth/access-policy.js';
import { notFound } from '../domain/errors.js';
import type { IndexDependency } from '../domain/index-line.js';
import { compareVersions, tryParseVersion } from '../domain/version.js';
import type { Catalog, CatalogCrate, CatalogVersion } from '../ports/catalog.js';
import type { VersionDetails } from '../ports/crates.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { CrateOwners } from './ownership.js';
import type { OwnersService } from './owners.js';
import { maxVersion } from '../domain/max-version.js';

export const CRATES_IO_INDEX = 'https://github.com/rust-lang/crates.io-index';

export interface DependencyView {
  /** The name the dependent uses (its alias when renamed). */
  name: string;
  /** The crate it is, when renamed. */
  package: string | null;
  req: string;
  kind: IndexDependency['kind'];
  optional: boolean;
  target: string | null;
  /** Where the crate's page is: this registry (only when the viewer may read it), crates.io, or nowhere known. */
  href: string | null;
  /** Another registry's index URL, when not this one. */
  registry: string | null;
}

export interface CrateView {
  crate: CatalogCrate;
  /** Newest first (by version order), yanked ones included. */
  versions: CatalogVersion[];
  selected: CatalogVersion;
  /** The selected version's description, license, links and so on. */
  details: VersionDetails;
  /** The selected version's first MAX_DEPENDENCIES_SHOWN dependencies, in the order it lists them. */
  dependencies: DependencyView[];
  /** How many it has in all. */
  dependencyCount: number;
  owners: CrateOwners;
}

/** More dependencies than any real crate has; a page lists these and counts the rest. */
export const MAX_DEPENDENCIES_SHOWN = 500;

const crateMissing = (name: string) => notFound('crate-not-found', `there is no crate \`${name}\``);
/** The same answer as a missing crate; its own code only lets the page layer audit the refusal. */
export const HIDDEN_CRATE_CODE = 'crate-hidden';
const crateHidden = (name: string) => notFound(HIDDEN_CRATE_CODE, `there is no crate \`${name}\``);

function newestFirst(versions: readonly CatalogVersion[]): CatalogVersion[] {
  return versions
    .map((version) => ({ version, parsed: tryParseVersion(version.entry.vers) }))
    .sort((a, b) => (a.parsed && b.parsed ? compareVersions(b.parsed, a.parsed) : b.version.entry.vers.localeCompare(a.version.entry.vers)))
    .map(({ version }) => version);
}

export class CratePages {
  constructor(
    private readonly catalog: Catalog,
    private readonly policy: AccessPolicy,
    private readonly owners: OwnersService,
  ) {}

  async view(viewer: TokenPrincipal | null, name: string, version?: string): Promise<CrateView> {
    // Access first, on the name asked for (rules match every spelling of a name alike): a crate the
    // viewer may not read costs the one lookup of a missing crate, not the loading of its versions,
    // so that the time of the answer does not tell it exists.
    if (!this.policy.mayRead(viewer, name)) {
      const exists = (await this.catalog.existingCrates([name.toLowerCase()])).size > 0;
      throw exists ? crateHidden(name) : crateMissing(name);
    }
    const crate = await this.catalog.crate(name.toLowerCase());
    if (!crate || crate.versions.length === 0) throw crateMissing(name);
    const versions = newestFirst(crate.versions);
    const wanted = version ?? maxVersion(crate.versions);
    const selected = versions.find((v) => v.entry.vers === wanted);
    const details = selected && (await this.catalog.versionDetails(crate.name.toLowerCase(), selected.entry.vers));
    if (!selected || !details) throw notFound('version-not-found', `crate \`${crate.name}\` has no version \`${version}\``);
    return {
      crate,
      versions,
      selected,
      details,
      dependencies: await this.dependencies(viewer, selected),
      dependencyCount: selected.entry.deps.length,
      owners: await this.owners.list(viewer, crate.name),
    };
  }

  private async dependencies(viewer: TokenPrincipal | null, version: CatalogVersion): Promise<DependencyView[]> {
    const deps = version.entry.deps.slice(0, MAX_DEPENDENCIES_SHOWN);
    const local = await this.catalog.existingCrates(
      deps.filter((d) => d.registry === null).map((d) => (d.package ?? d.name).toLowerCase()),
    );
    return deps.map((d) => {
      const real = d.package ?? d.name;
      let href: string | null = null;
      if (d.registry === null) {
        // A local crate the viewer may not read is shown as plain text, like one that does not exist.
        const exact = local.get(real.toLowerCase());
        href = exact !== undefined && this.policy.mayRead(viewer, exact) ? `/crates/${encodeURIComponent(exact)}` : null;
      } else if (d.registry === CRATES_IO_INDEX || d.registry === `sparse+https://index.crates.io/`) {
        href = `https://crates.io/crates/${encodeURIComponent(real)}`;
      }
      return {
        name: d.name,
        package: d.package,
        req: d.req,
        kind: d.kind,
        optional: d.optional,
        target: d.target,
        href,
        registry: d.registry,
      };
    });
  }
}
