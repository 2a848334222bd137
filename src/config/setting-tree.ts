// The tree the configuration's sources are merged into before the schema checks it: the file's
// tables flattened to setting paths, then each setting set by its path. Keys arrive from files,
// variable names and flags, so a key is checked before it becomes part of the tree: `__proto__`
// would reach Object.prototype, and an empty or dotted key has no dotted path to be reported under.

export type Tree = Record<string, unknown>;

const NOT_SETTINGS = new Set(['__proto__', 'constructor', 'prototype']);
const SETTING_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * What is wrong with a setting path's keys, as a problem that starts with the deepest path it can
 * name (`(top level)` when that is none), or undefined when every key may be a setting.
 */
export function settingPathProblem(path: readonly string[]): string | undefined {
  for (const [i, key] of path.entries()) {
    if (NOT_SETTINGS.has(key)) return `${path.slice(0, i + 1).join('.')}: \`${key}\` is not a setting`;
    if (!SETTING_NAME.test(key)) {
      return `${path.slice(0, i).join('.') || '(top level)'}: ${JSON.stringify(key)} is not a setting name (letters, digits, \`_\` and \`-\`)`;
    }
  }
  return undefined;
}

/** Sets a value by its path, making tables on the way; the caller has checked the path's keys. */
export function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (!isTable(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

/**
 * The leaves of a parsed TOML document with their paths. Arrays, empty tables and TOML dates and
 * times are leaves (a date is a `Date`, which has no keys either): where a setting belongs, the
 * schema refuses them instead of the setting keeping its default without a word.
 */
export function flatten(tree: Tree, prefix: string[] = [], out: Array<[string[], unknown]> = []): Array<[string[], unknown]> {
  for (const [key, value] of Object.entries(tree)) {
    if (isTable(value) && Object.keys(value).length > 0) flatten(value, [...prefix, key], out);
    else out.push([[...prefix, key], value]);
  }
  return out;
}

function isTable(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
