// Which credential providers cargo asks for a registry (cargo's `credential_provider`): the
// registry's own `credential-provider` alone, else `registry.global-credential-providers` (later
// entries first), else only `cargo:token`, in which case cargo refuses a registry that says
// `auth-required` ("authenticated registries require a credential-provider to be configured").
// Aliases come from `[credential-alias]`; a relative program path is relative to the folder holding
// the `.cargo` folder that named it, a bare name is looked up on PATH.

import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { CargoConfig, Defined } from './cargo-config.js';

export const BUILT_IN_PROVIDERS = [
  'cargo:token',
  'cargo:paseto',
  'cargo:token-from-stdout',
  'cargo:wincred',
  'cargo:macos-keychain',
  'cargo:libsecret',
];

export interface Provider {
  /** The program (resolved) and its arguments, as cargo runs it; built-ins keep their `cargo:` name. */
  argv: string[];
  /** Where the provider was configured. */
  source: string;
}

export interface ProviderPlan {
  /** In the order cargo asks them. */
  providers: Provider[];
  /** `registries.NAME.credential-provider` is set. */
  registrySpecific: boolean;
  /** `registry.global-credential-providers` is set (non-empty). */
  globalDefined: boolean;
}

function resolveProgram(word: string, root: string): string {
  if (word.startsWith('cargo:')) return word;
  return word.includes('/') && !isAbsolute(word) ? resolve(root, word) : word;
}

function withAlias(config: CargoConfig, command: Defined<string[]>): Provider {
  let argv = command.value;
  let root = command.root;
  let source = command.source;
  if (argv.length === 1 && !BUILT_IN_PROVIDERS.includes(argv[0]!)) {
    const alias = config.command(['credential-alias', argv[0]!]);
    if (alias && alias.value.length > 0) ({ value: argv, root, source } = alias);
  }
  const [program, ...args] = argv;
  return { argv: [resolveProgram(program ?? '', root), ...args], source };
}

export function planProviders(config: CargoConfig, registry: string): ProviderPlan {
  const own = config.command(['registries', registry, 'credential-provider']);
  if (own && own.value.length > 0) return { providers: [withAlias(config, own)], registrySpecific: true, globalDefined: false };
  const global = config.list(['registry', 'global-credential-providers']);
  if (global.length > 0) {
    const providers = [...global].reverse().map((entry) => withAlias(config, { ...entry, value: entry.value.trim().split(/\s+/) }));
    return { providers, registrySpecific: false, globalDefined: true };
  }
  return { providers: [{ argv: ['cargo:token'], source: "cargo's default" }], registrySpecific: false, globalDefined: false };
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The file cargo would run for `program`, or undefined when there is none. */
export function findProgram(program: string, env: NodeJS.ProcessEnv): string | undefined {
  if (program.includes('/')) return executable(program) ? program : undefined;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    if (executable(candidate)) return candidate;
  }
  return undefined;
}

/** The program a provider runs: an external provider's own, or `cargo:token-from-stdout`'s command. */
export function programOf(provider: Provider): string | undefined {
  const [first, second] = provider.argv;
  if (first === 'cargo:token-from-stdout') return second;
  return first?.startsWith('cargo:') ? undefined : first;
}
