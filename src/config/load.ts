// Loads the configuration: defaults < TOML file < CRATEKEEPER_<SECTION>__<KEY> environment
// variables < command-line flags. Everything is validated at once, before anything starts; every
// problem comes back with its dotted path and where the bad value came from.

import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';

export const ENV_PREFIX = 'CRATEKEEPER_';

type Tree = Record<string, unknown>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ConfigSources {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Settings from flags, by dotted path, e.g. { 'server.port': '0' }. */
  flags?: Record<string, string | undefined>;
}

function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

function flatten(tree: Tree, prefix: string[] = [], out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) flatten(value as Tree, [...prefix, key], out);
    else out.set([...prefix, key].join('.'), value);
  }
  return out;
}

function readConfigFile(file: string): Tree {
  let textContent: string;
  try {
    textContent = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`cannot read the configuration file ${file}: ${(error as Error).message}`]);
  }
  try {
    return parseToml(textContent) as Tree;
  } catch (error) {
    throw new ConfigError([`${file} is not valid TOML: ${(error as Error).message}`]);
  }
}

function envSettings(env: NodeJS.ProcessEnv): Map<string, { value: string; variable: string }> {
  const settings = new Map<string, { value: string; variable: string }>();
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || value === undefined) continue;
    const rest = variable.slice(ENV_PREFIX.length);
    if (!rest.includes('__')) continue; // not a setting, e.g. CRATEKEEPER_FAULT
    const path = rest.split('__').map((part) => part.toLowerCase());
    settings.set(path.join('.'), { value, variable });
  }
  return settings;
}

function describeIssue(issue: z.core.$ZodIssue, origin: Map<string, string>): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path.map(String), key].join('.');
      const from = [...origin.entries()].find(([p]) => p === path || p.startsWith(path + '.'))?.[1];
      return `${path}: unknown setting${from ? ` (from ${from})` : ''}`;
    });
  }
  const path = issue.path.map(String).join('.') || '(top level)';
  const from = origin.get(path);
  return [`${path}: ${issue.message}${from ? ` (from ${from})` : ''}`];
}

export function loadConfig(sources: ConfigSources): Config {
  const merged: Tree = {};
  const origin = new Map<string, string>(); // dotted path -> where its value came from

  if (sources.file !== undefined) {
    const fileTree = readConfigFile(sources.file);
    for (const [path, value] of flatten(fileTree)) {
      setPath(merged, path.split('.'), value);
      origin.set(path, `file ${sources.file}`);
    }
  }
  for (const [path, { value, variable }] of envSettings(sources.env ?? {})) {
    setPath(merged, path.split('.'), value);
    origin.set(path, `environment variable ${variable}`);
  }
  for (const [path, value] of Object.entries(sources.flags ?? {})) {
    if (value === undefined) continue;
    setPath(merged, path.split('.'), value);
    origin.set(path, `flag --${path.split('.').pop()!.replaceAll('_', '-')}`);
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.flatMap((issue) => describeIssue(issue, origin)));
  return parsed.data;
}
