// cargo's configuration as one merged view, with where each value came from, following cargo's
// rules: the environment (`CARGO_<KEY>`, dots and dashes as `_`) beats credentials.toml, which beats
// the config files, nearer files beating farther ones; lists are concatenated (farther entries first,
// the environment's whitespace-separated words last) except the few cargo keeps whole.

import { dirname, resolve } from 'node:path';
import {
  cargoHomeOf,
  findConfigFiles,
  findCredentialsFile,
  readConfigFiles,
  readTomlFile,
  type ConfigFile,
  type TomlTable,
} from './cargo-config-files.js';

/** A value and where it was defined: a file's path or `environment variable NAME`. */
export interface Defined<T> {
  value: T;
  source: string;
  /** What a relative path in the value is relative to (cargo: the folder holding `.cargo`, or the cwd). */
  root: string;
}

export interface CargoConfigInput {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export function envKey(path: string[]): string {
  return ['CARGO', ...path].map((part) => part.toUpperCase().replace(/[-.]/g, '_')).join('_');
}

function lookup(table: TomlTable, path: string[]): unknown {
  let node: unknown = table;
  for (const part of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = (node as TomlTable)[part];
  }
  return node;
}

/** The folder a relative path in a config file is relative to: the parent of its `.cargo` (or `$CARGO_HOME`). */
function rootOf(file: string): string {
  return dirname(dirname(file));
}

/** credentials.toml's old layout had a top-level `token` for crates.io: cargo reads it as `registry.token`. */
function normalizeCredentials(table: TomlTable): TomlTable {
  if (!('token' in table) || 'registry' in table) return table;
  const { token, ...rest } = table;
  return { ...rest, registry: { token } };
}

export class CargoConfig {
  readonly cwd: string;
  readonly cargoHome: string;
  readonly env: NodeJS.ProcessEnv;
  /** Highest priority first: credentials.toml, then the config files, nearest first. */
  private readonly layers: ConfigFile[];
  readonly configFiles: string[];
  readonly credentialsFile: string | undefined;

  constructor(input: CargoConfigInput) {
    this.cwd = resolve(input.cwd);
    this.env = input.env;
    this.cargoHome = cargoHomeOf(input.env, this.cwd);
    this.configFiles = findConfigFiles(this.cwd, this.cargoHome);
    this.credentialsFile = findCredentialsFile(this.cargoHome);
    const credentials = this.credentialsFile
      ? [{ path: this.credentialsFile, table: normalizeCredentials(readTomlFile(this.credentialsFile)) }]
      : [];
    this.layers = [...credentials, ...readConfigFiles(this.configFiles)];
  }

  /** The config file `cargo login` and new settings belong in when nothing else says so. */
  get homeConfigFile(): string {
    return this.configFiles.find((f) => dirname(f) === this.cargoHome) ?? resolve(this.cargoHome, 'config.toml');
  }

  private fromEnv(path: string[]): Defined<string> | undefined {
    const name = envKey(path);
    const value = this.env[name];
    return value === undefined ? undefined : { value, source: `environment variable ${name}`, root: this.cwd };
  }

  /** The value cargo would use for `path`, or undefined. */
  value(path: string[]): Defined<unknown> | undefined {
    const env = this.fromEnv(path);
    if (env) return env;
    for (const layer of this.layers) {
      const value = lookup(layer.table, path);
      if (value !== undefined) return { value, source: layer.path, root: rootOf(layer.path) };
    }
    return undefined;
  }

  string(path: string[]): Defined<string> | undefined {
    const found = this.value(path);
    return found && typeof found.value === 'string' ? (found as Defined<string>) : undefined;
  }

  /** A program with arguments (cargo's PathAndArgs): a whitespace-separated string or an array. */
  command(path: string[]): Defined<string[]> | undefined {
    const found = this.value(path);
    if (!found) return undefined;
    if (typeof found.value === 'string') return { ...found, value: found.value.trim().split(/\s+/).filter(Boolean) };
    if (Array.isArray(found.value)) return { ...found, value: found.value.map(String) };
    return undefined;
  }

  /** A mergeable list of strings: every file's entries, farther files first, then the environment's words. */
  list(path: string[]): Array<Defined<string>> {
    const out: Array<Defined<string>> = [];
    for (const layer of [...this.layers].reverse()) {
      const value = lookup(layer.table, path);
      if (!Array.isArray(value)) continue;
      for (const item of value) out.push({ value: String(item), source: layer.path, root: rootOf(layer.path) });
    }
    const env = this.fromEnv(path);
    if (env) for (const word of env.value.split(/\s+/).filter(Boolean)) out.push({ ...env, value: word });
    return out;
  }

  /** The keys of a table across all files (e.g. every `[registries.NAME]`). */
  tableKeys(path: string[]): string[] {
    const keys = new Set<string>();
    for (const layer of this.layers) {
      const table = lookup(layer.table, path);
      if (table !== null && typeof table === 'object' && !Array.isArray(table)) for (const key of Object.keys(table)) keys.add(key);
    }
    return [...keys];
  }

  /**
   * Every registry cargo knows by name: `[registries.NAME]` tables with an index, and
   * `CARGO_REGISTRIES_NAME_INDEX` variables (whose NAME cargo lowercases).
   */
  registryNames(): string[] {
    const names = this.tableKeys(['registries']).filter((n) => this.value(['registries', n, 'index']) !== undefined);
    const known = new Set(names.map((n) => envKey(['registries', n, 'index'])));
    for (const name of Object.keys(this.env)) {
      const match = /^CARGO_REGISTRIES_(.+)_INDEX$/.exec(name);
      if (match && !known.has(name)) names.push(match[1]!.toLowerCase());
    }
    return names.sort();
  }
}
