// Loads the configuration: defaults < TOML file < CRATEKEEPER_<SECTION>__<KEY> environment
// variables < command-line flags. Everything is validated at once, before anything starts; every
// problem comes back with its dotted path and where the bad value came from.

import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import type { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { flatten, setPath, settingPathProblem, type Tree } from './setting-tree.js';

export const ENV_PREFIX = 'CRATEKEEPER_';

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

interface EnvSetting {
  path: string[];
  value: string;
  variable: string;
}

function envSettings(env: NodeJS.ProcessEnv, problems: string[]): EnvSetting[] {
  const settings: EnvSetting[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || value === undefined) continue;
    const rest = variable.slice(ENV_PREFIX.length);
    if (!rest.includes('__')) continue; // not a setting, e.g. CRATEKEEPER_FAULT
    const path = rest.split('__').map((part) => part.toLowerCase());
    if (settingPathProblem(path) !== undefined) {
      problems.push(
        `${variable}: not a setting name (expected ${ENV_PREFIX}<SECTION>__<KEY>, each part letters, digits and single underscores)`,
      );
      continue;
    }
    settings.push({ path, value, variable });
  }
  return settings;
}

/**
 * Where the value behind a problem came from: the path's own source, else the source of a value set
 * below it (a table where a scalar belongs, or an unknown section).
 */
function originOf(path: string, origin: Map<string, string>): string | undefined {
  return origin.get(path) ?? [...origin.entries()].find(([p]) => p.startsWith(path + '.'))?.[1];
}

function describeIssue(issue: z.core.$ZodIssue, origin: Map<string, string>): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path.map(String), key].join('.');
      const from = originOf(path, origin);
      return `${path}: unknown setting${from ? ` (from ${from})` : ''}`;
    });
  }
  const path = issue.path.map(String).join('.') || '(top level)';
  const from = issue.path.length > 0 ? originOf(path, origin) : undefined;
  return [`${path}: ${issue.message}${from ? ` (from ${from})` : ''}`];
}

export function loadConfig(sources: ConfigSources): Config {
  const merged: Tree = {};
  const origin = new Map<string, string>(); // dotted path -> where its value came from
  const problems: string[] = []; // keys that cannot be settings, refused before the schema runs
  const set = (path: string[], value: unknown, from: string): void => {
    const problem = settingPathProblem(path);
    if (problem !== undefined) {
      problems.push(`${problem} (from ${from})`);
    } else {
      setPath(merged, path, value);
      origin.set(path.join('.'), from);
    }
  };

  if (sources.file !== undefined) {
    const fileTree = readConfigFile(sources.file);
    for (const [path, value] of flatten(fileTree)) set(path, value, `file ${sources.file}`);
  }
  for (const { path, value, variable } of envSettings(sources.env ?? {}, problems)) set(path, value, `environment variable ${variable}`);
  for (const [path, value] of Object.entries(sources.flags ?? {})) {
    if (value !== undefined) set(path.split('.'), value, `flag --${path.split('.').pop()!.replaceAll('_', '-')}`);
  }

  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap((issue) => describeIssue(issue, origin)));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  return parsed.data;
}
