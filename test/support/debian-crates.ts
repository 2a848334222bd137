// Real crates for tests: Debian's `librust-*-dev` packages put crate sources under
// /usr/share/cargo/registry/<name>-<version>/, and tar+gzip of that folder is a valid .crate. This
// module installs the packages when they are missing (CI runs on a fresh machine as root), reads
// each crate's normalized Cargo.toml, and gives what a registry needs: .crate bytes (deterministic:
// sorted, fixed owner and time, gzip without a timestamp), publish metadata, and index entries.
// Dependencies that Debian did not install (optional ones, other platforms') are left out, with
// the features that name them, so that every crate published here resolves.

import { execSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { splitFeatures, type IndexEntry } from '../../src/domain/index-line.js';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { dependency, metadataFor } from './crate-fixture.js';

export const DEBIAN_REGISTRY = '/usr/share/cargo/registry';

export interface DebianDependency {
  /** The real crate name. */
  name: string;
  /** The name the dependent uses, when renamed. */
  alias: string | null;
  req: string;
  features: string[];
  optional: boolean;
  defaultFeatures: boolean;
  target: string | null;
  kind: 'normal' | 'build';
}

export interface DebianCrate {
  name: string;
  version: string;
  dir: string;
  deps: DebianDependency[];
  features: Record<string, string[]>;
  links: string | null;
  rustVersion: string | null;
  description: string | null;
  license: string | null;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

function readDeps(table: unknown, kind: 'normal' | 'build', target: string | null): DebianDependency[] {
  if (!isTable(table)) return [];
  return Object.entries(table).map(([key, spec]) => {
    const s: Table = typeof spec === 'string' ? { version: spec } : isTable(spec) ? spec : {};
    const real = typeof s.package === 'string' ? s.package : key;
    return {
      name: real,
      alias: real === key ? null : key,
      req: typeof s.version === 'string' ? s.version : '*',
      features: Array.isArray(s.features) ? (s.features as string[]) : [],
      optional: s.optional === true,
      defaultFeatures: s['default-features'] !== false && s.default_features !== false,
      target,
      kind,
    };
  });
}

function readCrate(dir: string): DebianCrate {
  const manifest = parseToml(readFileSync(join(dir, 'Cargo.toml'), 'utf8')) as Table;
  const pkg = manifest.package as Table;
  const deps = [...readDeps(manifest.dependencies, 'normal', null), ...readDeps(manifest['build-dependencies'], 'build', null)];
  if (isTable(manifest.target)) {
    for (const [target, t] of Object.entries(manifest.target)) {
      if (!isTable(t)) continue;
      deps.push(...readDeps(t.dependencies, 'normal', target), ...readDeps(t['build-dependencies'], 'build', target));
    }
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    name: pkg.name as string,
    version: pkg.version as string,
    dir,
    deps,
    features: isTable(manifest.features) ? (manifest.features as Record<string, string[]>) : {},
    links: str(pkg.links),
    rustVersion: str(pkg['rust-version']),
    description: str(pkg.description),
    license: str(pkg.license),
  };
}

/** Drops dependencies on crates outside `names`, and feature entries that name them. */
export function keepInstalled(c: DebianCrate, names: Set<string>): DebianCrate {
  const droppedDeps = c.deps.filter((d) => !names.has(d.name));
  const dropped = new Set(droppedDeps.map((d) => d.alias ?? d.name));
  const deps = c.deps.filter((d) => names.has(d.name));
  const features: Record<string, string[]> = {};
  for (const [feature, enables] of Object.entries(c.features)) {
    features[feature] = enables.filter((f) => {
      const base = f.replace(/^dep:/, '').split('/')[0]!.replace(/\?$/, '');
      return !dropped.has(base) || (f in c.features && !f.startsWith('dep:'));
    });
  }
  // An optional dependency is also a feature of its name (unless `dep:` names it): keep that
  // feature, empty, so that dependents asking for it still resolve.
  const explicit = Object.values(c.features).flat();
  for (const d of droppedDeps) {
    const alias = d.alias ?? d.name;
    if (d.optional && !(alias in features) && !explicit.includes(`dep:${alias}`)) features[alias] = [];
  }
  return { ...c, deps, features };
}

// Crates that exist only to build Rust's standard library (`compiler_builtins` is a reserved name).
const STD_BUILD_CRATES = new Set(['compiler_builtins', 'rustc-std-workspace-core', 'rustc-std-workspace-alloc', 'rustc-std-workspace-std']);

/** Every crate in Debian's registry folder (but those of the standard library's build). */
export function readDebianCrates(): DebianCrate[] {
  if (!existsSync(DEBIAN_REGISTRY)) return [];
  const crates = readdirSync(DEBIAN_REGISTRY)
    .filter((d) => existsSync(join(DEBIAN_REGISTRY, d, 'Cargo.toml')))
    .map((d) => readCrate(join(DEBIAN_REGISTRY, d)))
    .filter((c) => !STD_BUILD_CRATES.has(c.name));
  const names = new Set(crates.map((c) => c.name));
  return crates.map((c) => keepInstalled(c, names));
}

/**
 * The crates that `roots` need (normal and build dependencies; optional ones too with
 * `optional`), dependencies
 * first; optional dependencies outside the closure are left out, with the features naming them.
 */
export function closureOf(roots: string[], all: DebianCrate[], options: { optional?: boolean } = {}): DebianCrate[] {
  const byName = new Map<string, DebianCrate[]>();
  for (const c of all) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const versionsOf = (name: string) => {
    const versions = byName.get(name);
    if (!versions) throw new Error(`crate ${name} is not installed under ${DEBIAN_REGISTRY}`);
    return versions;
  };
  const needed = new Set<string>();
  const collect = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const c of versionsOf(name)) for (const d of c.deps) if (options.optional || !d.optional) collect(d.name);
  };
  roots.forEach(collect);
  // Dependencies first, optional ones inside the closure included (a registry checks them all).
  const ordered: DebianCrate[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || !needed.has(name)) return; // done, or a cycle through optional dependencies
    seen.add(name);
    for (const c of versionsOf(name)) for (const d of c.deps) visit(d.name);
    ordered.push(...versionsOf(name));
  };
  roots.forEach(visit);
  return ordered.map((c) => keepInstalled(c, needed));
}

const crateCache = new Map<string, Buffer>();

/** The .crate: tar of `name-version/`, deterministic, gzip without a name or time. */
export function crateBytes(c: DebianCrate): Buffer {
  let bytes = crateCache.get(c.dir);
  if (!bytes) {
    // Debian's folder name may differ from the crate's (md5-0.10.1 holds md-5): rename it in the tar.
    const folder = basename(c.dir);
    const rename = `s,^${folder},${c.name}-${c.version},`;
    bytes = execSync(
      `tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --exclude=.cargo-checksum.json --transform ${JSON.stringify(rename)} -cf - -C ${JSON.stringify(DEBIAN_REGISTRY)} ${JSON.stringify(folder)} | gzip -n -9`,
      { maxBuffer: 256 * 1024 * 1024 },
    );
    crateCache.set(c.dir, bytes);
  }
  return bytes;
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** The body of `PUT /api/v1/crates/new` for the crate, as cargo would send it. */
export function publishBodyOf(c: DebianCrate): Buffer {
  const metadata = metadataFor(c.name, c.version, {
    deps: c.deps.map((d) =>
      dependency(d.name, d.req, {
        features: d.features,
        optional: d.optional,
        default_features: d.defaultFeatures,
        target: d.target,
        kind: d.kind,
        explicit_name_in_toml: d.alias,
      }),
    ),
    features: c.features,
    description: c.description,
    license: c.license ?? 'MIT',
    links: c.links,
    rust_version: c.rustVersion,
  });
  return encodePublishBody(metadata, crateBytes(c));
}

/** The crate's index entry, for a static sparse index. */
export function indexEntryOf(c: DebianCrate): IndexEntry {
  return {
    name: c.name,
    vers: c.version,
    deps: c.deps.map((d) => ({
      name: d.alias ?? d.name,
      req: d.req,
      features: d.features,
      optional: d.optional,
      default_features: d.defaultFeatures,
      target: d.target,
      kind: d.kind,
      registry: null,
      package: d.alias !== null ? d.name : null,
    })),
    cksum: sha256(crateBytes(c)),
    ...splitFeatures(c.features),
    links: c.links,
    rust_version: c.rustVersion,
    pubtime: null,
  };
}
