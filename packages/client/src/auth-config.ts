// The auth file (TOML, ours): per host, which pattern turns the .netrc secrets into headers, which
// headers differ per operation (index reads, downloads, API calls, told apart by URL path prefix), an
// optional command that prints short-lived tokens, and whether the .netrc `default` entry may answer
// for the host (only where a host says so: there is no switch that hands it to every host). Every
// problem is reported with the dotted key it belongs to, all at once.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { AuthPatternError, parseAuthPattern, type AuthPattern } from './auth-pattern.js';
import { HostKeyError, parseHostKey, type HostKey } from './host-key.js';

export const OPERATIONS = ['index', 'download', 'api'] as const;
export type Operation = (typeof OPERATIONS)[number];

export interface HeaderRule {
  /** Operation name, or undefined for the host's base rule (which applies to every path). */
  operation: Operation | undefined;
  /** URL path prefixes the rule applies to (the base rule has none). */
  pathPrefixes: string[];
  /** The pattern for `header`; undefined when the rule sends only `headers`. */
  auth: AuthPattern | undefined;
  header: string;
  /** Further headers, as templates over <login> and <password>. */
  extraHeaders: Array<[string, AuthPattern]>;
}

export interface HostConfig {
  key: string;
  match: HostKey;
  /** The .netrc machine holding this host's secrets (default: the host name). */
  netrcMachine: string | undefined;
  /** May the .netrc `default` entry answer for this host (when no machine entry does)? Off unless said. */
  useNetrcDefault: boolean;
  tokenCommand: string[] | undefined;
  /** Proxy only: relay `auth-required: false` in this host's config.json (the proxy authenticates). */
  rewriteAuthRequired: boolean;
  base: HeaderRule;
  operations: HeaderRule[];
}

export interface AuthConfig {
  file: string | undefined;
  hosts: HostConfig[];
  allowInsecureNetrc: boolean;
}

export class AuthConfigError extends Error {
  readonly code = 'AUTH_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`${file}: ${problems.length === 1 ? problems[0] : `\n  ${problems.join('\n  ')}`}`);
    this.name = 'AuthConfigError';
  }
}

export const EMPTY_AUTH_CONFIG: AuthConfig = { file: undefined, hosts: [], allowInsecureNetrc: false };

/** The auth file's path: --auth-config, then $CRATEKEEPER_AUTH_CONFIG, then ~/.config/cratekeeper/auth.toml. */
export function authConfigPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  if (env.CRATEKEEPER_AUTH_CONFIG) return env.CRATEKEEPER_AUTH_CONFIG;
  const configHome = env.XDG_CONFIG_HOME || join(env.HOME ?? homedir(), '.config');
  return join(configHome, 'cratekeeper', 'auth.toml');
}

/** Reads the file; a missing file is an empty configuration unless `required`. */
export function loadAuthConfig(path: string, required = false): AuthConfig {
  if (!existsSync(path)) {
    if (required) throw new AuthConfigError(path, ['no such file']);
    return { ...EMPTY_AUTH_CONFIG, file: path };
  }
  return parseAuthConfig(readFileSync(path, 'utf8'), path);
}

const isTable = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
const quoteKey = (k: string) => (/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k));
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses the TOML text; throws AuthConfigError listing every problem with its key. */
export function parseAuthConfig(text: string, file = 'auth.toml'): AuthConfig {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError)
      throw new AuthConfigError(file, [`line ${error.line}, column ${error.column}: ${error.message.split('\n')[0]}`]);
    throw error;
  }
  const problems: string[] = [];
  const bool = (table: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean => {
    const v = table[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') problems.push(`${path}: expected true or false`);
    return v === true;
  };
  const unknownKeys = (table: Record<string, unknown>, known: string[], path: string) => {
    for (const k of Object.keys(table))
      if (!known.includes(k)) problems.push(`${path}${path ? '.' : ''}${quoteKey(k)}: unknown key (expected one of ${known.join(', ')})`);
  };

  unknownKeys(doc, ['netrc_default', 'allow_insecure_netrc', 'hosts'], '');
  // Once a switch that let the `default` entry answer for every unlisted host; `false` is now what
  // always happens, and `true` is refused with the per-host way to say it.
  if (bool(doc, 'netrc_default', 'netrc_default', false)) {
    problems.push(
      'netrc_default: the .netrc `default` entry cannot answer for every host (its password would go to any registry that asks); ' +
        'opt in per host instead: use_netrc_default = true under [hosts."<host>"]',
    );
  }
  const allowInsecureNetrc = bool(doc, 'allow_insecure_netrc', 'allow_insecure_netrc', false);
  const hosts: HostConfig[] = [];
  const hostsTable = doc.hosts ?? {};
  if (!isTable(hostsTable)) problems.push('hosts: expected a table of hosts, e.g. [hosts."registry.example.com"]');
  else {
    for (const [key, value] of Object.entries(hostsTable)) {
      const path = `hosts.${quoteKey(key)}`;
      if (!isTable(value)) {
        problems.push(`${path}: expected a table`);
        continue;
      }
      let match: HostKey;
      try {
        match = parseHostKey(key);
      } catch (error) {
        if (!(error instanceof HostKeyError)) throw error;
        problems.push(`${path}: ${error.message}`);
        continue;
      }
      unknownKeys(
        value,
        ['auth', 'header', 'headers', 'netrc_machine', 'use_netrc_default', 'token_command', 'rewrite_auth_required', 'operations'],
        path,
      );
      const base = parseRule(value, path, undefined, problems);
      const operations: HeaderRule[] = [];
      const ops = value.operations ?? {};
      if (!isTable(ops)) problems.push(`${path}.operations: expected a table with index, download or api`);
      else {
        for (const [name, op] of Object.entries(ops)) {
          const opPath = `${path}.operations.${quoteKey(name)}`;
          if (!(OPERATIONS as readonly string[]).includes(name)) {
            problems.push(`${opPath}: unknown operation (expected ${OPERATIONS.join(', ')})`);
            continue;
          }
          if (!isTable(op)) {
            problems.push(`${opPath}: expected a table`);
            continue;
          }
          unknownKeys(op, ['path_prefix', 'auth', 'header', 'headers'], opPath);
          const rule = parseRule(op, opPath, name as Operation, problems, base.auth);
          if (rule.pathPrefixes.length === 0)
            problems.push(`${opPath}.path_prefix: required (the URL path this operation's requests start with, e.g. "/index/")`);
          operations.push(rule);
        }
      }
      let tokenCommand: string[] | undefined;
      if (value.token_command !== undefined) {
        const tc = value.token_command;
        if (!Array.isArray(tc) || tc.length === 0 || !tc.every((x) => typeof x === 'string' && x !== '')) {
          problems.push(
            `${path}.token_command: expected a non-empty array of strings, e.g. ["aws", "codeartifact", "get-authorization-token", ...]`,
          );
        } else tokenCommand = tc as string[];
      }
      const netrcMachine = value.netrc_machine;
      if (netrcMachine !== undefined && (typeof netrcMachine !== 'string' || netrcMachine === ''))
        problems.push(`${path}.netrc_machine: expected a machine name`);
      hosts.push({
        key,
        match,
        netrcMachine: typeof netrcMachine === 'string' ? netrcMachine : undefined,
        useNetrcDefault: bool(value, 'use_netrc_default', `${path}.use_netrc_default`, false),
        tokenCommand,
        rewriteAuthRequired: bool(value, 'rewrite_auth_required', `${path}.rewrite_auth_required`, true),
        base,
        operations,
      });
    }
  }
  if (problems.length > 0) throw new AuthConfigError(file, problems);
  return { file, hosts, allowInsecureNetrc };
}

function parseRule(
  table: Record<string, unknown>,
  path: string,
  operation: Operation | undefined,
  problems: string[],
  inherited?: AuthPattern,
): HeaderRule {
  const pattern = (text: unknown, at: string): AuthPattern | undefined => {
    if (typeof text !== 'string') {
      problems.push(`${at}: expected a string such as "basic", "bearer" or "token <password>"`);
      return undefined;
    }
    try {
      return parseAuthPattern(text);
    } catch (error) {
      if (!(error instanceof AuthPatternError)) throw error;
      problems.push(`${at}: ${error.message}`);
      return undefined;
    }
  };
  let header = 'Authorization';
  if (table.header !== undefined) {
    if (typeof table.header !== 'string' || !HEADER_NAME.test(table.header))
      problems.push(`${path}.header: expected a header name, e.g. "Authorization"`);
    else header = table.header;
  }
  const extraHeaders: Array<[string, AuthPattern]> = [];
  if (table.headers !== undefined) {
    if (!isTable(table.headers)) problems.push(`${path}.headers: expected a table of header = "template"`);
    else {
      for (const [name, value] of Object.entries(table.headers)) {
        const at = `${path}.headers.${quoteKey(name)}`;
        if (!HEADER_NAME.test(name)) problems.push(`${at}: not a header name`);
        const p = pattern(value, at);
        if (p) extraHeaders.push([name, p]);
      }
    }
  }
  let auth: AuthPattern | undefined;
  if (table.auth !== undefined) auth = pattern(table.auth, `${path}.auth`);
  else if (extraHeaders.length === 0) auth = inherited ?? parseAuthPattern('token');
  const pathPrefixes: string[] = [];
  if (table.path_prefix !== undefined) {
    const list = Array.isArray(table.path_prefix) ? table.path_prefix : [table.path_prefix];
    for (const p of list) {
      if (typeof p !== 'string' || !p.startsWith('/'))
        problems.push(`${path}.path_prefix: expected a URL path starting with "/" (or a list of them)`);
      else pathPrefixes.push(p);
    }
  }
  return { operation, pathPrefixes, auth, header, extraHeaders };
}
