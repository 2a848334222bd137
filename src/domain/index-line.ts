// Index lines: the JSON object per version that cargo reads from the sparse index, and the file
// made of them. Rendering is deterministic (fixed key order), so the same stored data always gives
// the same bytes and the same ETag.

export type DependencyKind = 'normal' | 'dev' | 'build';

export interface IndexDependency {
  name: string; // as the dependent names it: the alias when renamed
  req: string;
  features: string[];
  optional: boolean;
  default_features: boolean;
  target: string | null;
  kind: DependencyKind;
  registry: string | null; // null: this registry
  package: string | null; // the real name when renamed
}

/** What the index says of one version, apart from whether it is yanked. */
export interface IndexEntry {
  name: string;
  vers: string;
  deps: IndexDependency[];
  cksum: string;
  features: Record<string, string[]>;
  features2: Record<string, string[]> | null;
  links: string | null;
  rust_version: string | null;
  pubtime: string | null; // YYYY-MM-DDTHH:MM:SSZ
}

function renderDependency(dep: IndexDependency): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: dep.name,
    req: dep.req,
    features: dep.features,
    optional: dep.optional,
    default_features: dep.default_features,
    target: dep.target,
    kind: dep.kind,
  };
  if (dep.registry !== null) out.registry = dep.registry;
  if (dep.package !== null) out.package = dep.package;
  return out;
}

export function renderIndexLine(entry: IndexEntry, yanked: boolean): string {
  const line: Record<string, unknown> = {
    name: entry.name,
    vers: entry.vers,
    deps: entry.deps.map(renderDependency),
    cksum: entry.cksum,
    features: entry.features,
    yanked,
  };
  if (entry.links !== null) line.links = entry.links;
  if (entry.features2 !== null) {
    line.v = 2;
    line.features2 = entry.features2;
  }
  if (entry.rust_version !== null) line.rust_version = entry.rust_version;
  if (entry.pubtime !== null) line.pubtime = entry.pubtime;
  return JSON.stringify(line);
}

export function renderIndexFile(versions: ReadonlyArray<{ entry: IndexEntry; yanked: boolean }>): string {
  let out = '';
  for (const v of versions) out += renderIndexLine(v.entry, v.yanked) + '\n';
  return out;
}

/**
 * Splits features into those every cargo understands and those using the newer `dep:` and `?/`
 * syntax, which go to `features2` (cargo before 1.60 would otherwise skip the whole version).
 */
export function splitFeatures(features: Record<string, string[]>): {
  features: Record<string, string[]>;
  features2: Record<string, string[]> | null;
} {
  const plain: Record<string, string[]> = {};
  const newer: Record<string, string[]> = {};
  for (const [feature, enables] of Object.entries(features)) {
    const usesNewSyntax = enables.some((f) => f.startsWith('dep:') || f.includes('?/'));
    (usesNewSyntax ? newer : plain)[feature] = enables;
  }
  return { features: plain, features2: Object.keys(newer).length > 0 ? newer : null };
}

/** `pubtime` format: second resolution, UTC, `Z` suffix. */
export function formatPubtime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
