// One RustSec advisory file (`crates/<name>/RUSTSEC-YYYY-NNNN.md`): a ```toml fenced front matter
// with `[advisory]` and `[versions]`, then Markdown whose first heading is the title. Parsing is
// all or nothing: a file with any fault is refused with its path and the fault, so a sync can
// report it and leave it out, never store half of it.

import { parse as parseToml, TomlDate } from 'smol-toml';
import { tryCvssBaseScore } from './cvss.js';
import { invalid, RegistryError } from './errors.js';
import { matchesRequirement, parseVersionRequirement } from './version-requirement.js';
import type { Version } from './version.js';

export interface Advisory {
  id: string;
  /** The crate it is about, as written in the file. */
  package: string;
  /** YYYY-MM-DD. */
  date: string;
  title: string;
  /** The Markdown after the title. */
  description: string;
  url?: string;
  /** YYYY-MM-DD: a withdrawn advisory is kept for the record but applies to nothing. */
  withdrawn?: string;
  /** `unmaintained`, `unsound`, `notice`...: not a vulnerability as such. */
  informational?: string;
  /**
   * The CVSS vector as written (3.0, 3.1 or 4.0), and its base score computed from it. A vector
   * that cannot be scored (another version, a typo) is kept without a score: the advisory is
   * "unscored" (`isUnscored`), and a minimum-CVSS rule treats it as severe enough.
   */
  cvss?: string;
  cvssScore?: number;
  aliases: string[];
  categories: string[];
  /** Cargo version requirements; a version matching none of `patched` and `unaffected` is affected. */
  patched: string[];
  unaffected: string[];
}

/** Larger files are refused before the TOML parser sees them (real advisories are a few KiB). */
export const MAX_ADVISORY_FILE_BYTES = 256 * 1024;

const ID = /^RUSTSEC-\d{4}-\d{4,}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const FILE_PATH = /^crates\/([^/]+)\/([^/]+)\.md$/;

/** Parses the file at `path` (relative to the database's root, `crates/<name>/<id>.md`); throws `invalid-advisory` naming the path. */
export function parseAdvisoryFile(path: string, text: string): Advisory {
  const fault = (why: string) => invalid('invalid-advisory', `${path}: ${why}`);
  const place = FILE_PATH.exec(path);
  if (!place) throw fault('an advisory must be at crates/<crate name>/<advisory id>.md');
  if (text.length > MAX_ADVISORY_FILE_BYTES) throw fault(`the file is larger than ${MAX_ADVISORY_FILE_BYTES} bytes`);
  const { frontMatter, markdown } = splitFrontMatter(text, fault);

  let toml: Record<string, unknown>;
  try {
    toml = parseToml(frontMatter) as Record<string, unknown>;
  } catch (error) {
    throw fault(`the front matter is not valid TOML (${firstLine(error)})`);
  }
  const advisory = table(toml, 'advisory', fault);
  const versions = table(toml, 'versions', fault);

  const id = requiredString(advisory, 'id', fault);
  if (!ID.test(id)) throw fault(`advisory.id \`${id}\` is not of the form RUSTSEC-YYYY-NNNN`);
  if (place[2] !== id) throw fault(`the file name must be the advisory id (${id}.md)`);
  const pkg = requiredString(advisory, 'package', fault);
  if (pkg !== place[1]) throw fault(`advisory.package \`${pkg}\` differs from its folder crates/${place[1]}/`);

  const heading = /^#\s+(.+?)\s*#*\s*$/m.exec(markdown);
  const title = optionalString(advisory, 'title', fault) ?? heading?.[1];
  if (title === undefined || title.trim() === '') throw fault('no title: neither advisory.title nor a Markdown heading');
  const description = (heading ? markdown.slice(heading.index + heading[0].length) : markdown).trim();

  const cvss = optionalString(advisory, 'cvss', fault);
  // A vector that cannot be scored leaves the advisory unscored, never out: dropping it would
  // leave the crate unprotected under `deny` (as 4.0 advisories once were).
  const cvssScore = cvss === undefined ? undefined : tryCvssBaseScore(cvss);

  const url = optionalString(advisory, 'url', fault);
  if (url !== undefined && !/^https?:\/\/\S+$/.test(url)) throw fault(`advisory.url \`${url}\` is not an http(s) URL`);
  const informational = optionalString(advisory, 'informational', fault);
  if (informational === '') throw fault('advisory.informational is empty');

  const patched = stringList(versions, 'patched', 'versions', fault);
  const unaffected = stringList(versions, 'unaffected', 'versions', fault);
  for (const requirement of [...patched, ...unaffected]) reported(() => parseVersionRequirement(requirement), 'versions', fault);

  return {
    id,
    package: pkg,
    date: date(advisory, 'date', fault) ?? throwing(fault('advisory.date is missing')),
    title: title.trim(),
    description,
    ...(url !== undefined && { url }),
    ...optional('withdrawn', date(advisory, 'withdrawn', fault)),
    ...optional('informational', informational),
    ...optional('cvss', cvss),
    ...optional('cvssScore', cvssScore),
    aliases: stringList(advisory, 'aliases', 'advisory', fault),
    categories: stringList(advisory, 'categories', 'advisory', fault),
    patched,
    unaffected,
  };
}

/** Whether the advisory has a CVSS vector that cannot be scored. */
export function isUnscored(advisory: Pick<Advisory, 'cvss' | 'cvssScore'>): boolean {
  return advisory.cvss !== undefined && advisory.cvssScore === undefined;
}

/**
 * Whether `version` is affected: the advisory is not withdrawn and the version matches none of its
 * `patched` and `unaffected` requirements. The requirements were checked when the file was parsed.
 */
export function isAffected(advisory: Pick<Advisory, 'withdrawn' | 'patched' | 'unaffected'>, version: Version): boolean {
  if (advisory.withdrawn !== undefined) return false;
  return ![...advisory.patched, ...advisory.unaffected].some((r) => matchesRequirement(parseVersionRequirement(r), version));
}

type Fault = (why: string) => RegistryError;

function splitFrontMatter(text: string, fault: Fault): { frontMatter: string; markdown: string } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const start = lines.findIndex((l) => l.trim() !== '');
  if (start === -1 || lines[start]!.trim() !== '```toml') throw fault('the file must start with a ```toml fenced front matter');
  const end = lines.findIndex((l, i) => i > start && l.trim() === '```');
  if (end === -1) throw fault('the ```toml front matter is never closed with ```');
  return { frontMatter: lines.slice(start + 1, end).join('\n'), markdown: lines.slice(end + 1).join('\n') };
}

function table(toml: Record<string, unknown>, key: string, fault: Fault): Record<string, unknown> {
  const value = toml[key];
  if (value === undefined) throw fault(`the front matter has no [${key}] table`);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Date) throw fault(`${key} must be a table`);
  return value as Record<string, unknown>;
}

function requiredString(t: Record<string, unknown>, key: string, fault: Fault): string {
  return optionalString(t, key, fault) ?? throwing(fault(`advisory.${key} is missing`));
}

function optionalString(t: Record<string, unknown>, key: string, fault: Fault): string | undefined {
  const value = t[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw fault(`advisory.${key} must be a string`);
  return value;
}

function date(t: Record<string, unknown>, key: string, fault: Fault): string | undefined {
  const value = t[key];
  if (value === undefined) return undefined;
  const text = value instanceof TomlDate ? value.toISOString().slice(0, 10) : value;
  if (typeof text !== 'string' || !DATE.test(text) || Number.isNaN(Date.parse(text))) {
    throw fault(`advisory.${key} must be a date written YYYY-MM-DD`);
  }
  return text;
}

function stringList(t: Record<string, unknown>, key: string, tableName: string, fault: Fault): string[] {
  const value = t[key];
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw fault(`${tableName}.${key} must be a list of strings`);
  return value as string[];
}

/** Runs a check that throws a RegistryError, and reports its message under the file's path and field. */
function reported<T>(check: () => T, field: string, fault: Fault): T {
  try {
    return check();
  } catch (error) {
    throw fault(`${field}: ${error instanceof RegistryError ? error.message : String(error)}`);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function throwing(error: Error): never {
  throw error;
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split('\n')[0]!;
}
