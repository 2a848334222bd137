// `--registry <name or index URL>` for `cratekeeper login` / `logout`: a URL is used as it is; a
// name is looked up as cargo would, in CARGO_REGISTRIES_<NAME>_INDEX, then in the
// `.cargo/config.toml` files from the current folder up, then in $CARGO_HOME/config.toml.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';

export class RegistryLookupError extends Error {
  readonly code = 'REGISTRY_LOOKUP';
}

function indexInFile(path: string, name: string): string | undefined {
  if (!existsSync(path)) return undefined;
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new RegistryLookupError(`${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  const registries = doc.registries as Record<string, { index?: unknown }> | undefined;
  const index = registries?.[name]?.index;
  return typeof index === 'string' ? index : undefined;
}

/** The config files cargo reads, most specific first. */
function cargoConfigFiles(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const files: string[] = [];
  for (let dir = cwd; ; dir = dirname(dir)) {
    files.push(join(dir, '.cargo', 'config.toml'), join(dir, '.cargo', 'config'));
    if (dirname(dir) === dir) break;
  }
  const cargoHome = env.CARGO_HOME || join(env.HOME ?? homedir(), '.cargo');
  files.push(join(cargoHome, 'config.toml'), join(cargoHome, 'config'));
  return [...new Set(files)];
}

/** The index URL (with any `sparse+`) for a registry name or URL. */
export function resolveRegistry(nameOrUrl: string, env: NodeJS.ProcessEnv, cwd = process.cwd()): string {
  if (/^(sparse\+)?https?:\/\//i.test(nameOrUrl)) return nameOrUrl;
  const variable = `CARGO_REGISTRIES_${nameOrUrl.toUpperCase().replace(/-/g, '_')}_INDEX`;
  if (env[variable]) return env[variable]!;
  const files = cargoConfigFiles(env, cwd);
  for (const file of files) {
    const index = indexInFile(file, nameOrUrl);
    if (index !== undefined) return index;
  }
  throw new RegistryLookupError(
    `no registry named \`${nameOrUrl}\`: it is neither in ${variable} nor under [registries.${nameOrUrl}] in cargo's configuration ` +
      `(looked in ${files.filter((f) => existsSync(f)).join(', ') || 'no existing config file'}); pass its index URL instead`,
  );
}
