// Finds cargo's configuration files the way cargo does (cargo's `walk_tree`): `.cargo/config` or
// `.cargo/config.toml` in the project folder and every folder above it (the legacy name without
// `.toml` wins when both exist), then `$CARGO_HOME/config(.toml)` unless the walk already passed
// through it; and `$CARGO_HOME/credentials(.toml)`. Nearer files come first.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';

export type TomlTable = Record<string, unknown>;

export interface ConfigFile {
  path: string;
  table: TomlTable;
}

export class CargoConfigError extends Error {
  readonly code = 'CARGO_CONFIG';
}

/** `$CARGO_HOME`, else `~/.cargo` (cargo's home_path). */
export function cargoHomeOf(env: NodeJS.ProcessEnv, cwd: string): string {
  const home = env.CARGO_HOME;
  if (home !== undefined && home !== '') return resolve(cwd, home);
  return join(env.HOME ?? homedir(), '.cargo');
}

/** `dir/name` when it exists (cargo's preference for the legacy name), else `dir/name.toml`, else undefined. */
function fileIn(dir: string, name: string): string | undefined {
  const legacy = join(dir, name);
  if (existsSync(legacy)) return legacy;
  const modern = join(dir, `${name}.toml`);
  return existsSync(modern) ? modern : undefined;
}

function canonical(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

export function readTomlFile(path: string): TomlTable {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CargoConfigError(`cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseToml(text) as TomlTable;
  } catch (error) {
    const where = error instanceof TomlError ? `:${error.line}` : '';
    throw new CargoConfigError(`${path}${where}: not valid TOML (${(error as Error).message.split('\n')[0]}); cargo refuses it too`);
  }
}

/** The config files cargo reads for a command run in `cwd`, nearest first. */
export function findConfigFiles(cwd: string, cargoHome: string): string[] {
  const files: string[] = [];
  const seen = new Set<string>();
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const root = join(dir, '.cargo');
    const file = fileIn(root, 'config');
    if (file !== undefined) files.push(file);
    seen.add(canonical(root));
    if (dirname(dir) === dir) break;
  }
  if (!seen.has(canonical(cargoHome))) {
    const file = fileIn(cargoHome, 'config');
    if (file !== undefined) files.push(file);
  }
  return files;
}

/** `$CARGO_HOME/credentials(.toml)`, where `cargo login` stores tokens for `cargo:token`. */
export function findCredentialsFile(cargoHome: string): string | undefined {
  return fileIn(cargoHome, 'credentials');
}

export function readConfigFiles(paths: string[]): ConfigFile[] {
  return paths.map((path) => ({ path, table: readTomlFile(path) }));
}
