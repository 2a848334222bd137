// Semantic versions as cargo uses them (SemVer 2.0, no leading `v`, no leading zeros), and their
// ordering. Rust's requirement syntax differs from npm's: cargo's requirements are matched in
// version-requirement.ts, on these versions.

import { invalid } from './errors.js';

// The grammar of semver.org, written out: MAJOR.MINOR.PATCH[-PRE][+BUILD].
const NUMERIC = '0|[1-9]\\d*';
const PRE_IDENT = `(?:${NUMERIC}|\\d*[A-Za-z-][0-9A-Za-z-]*)`;
const BUILD_IDENT = '[0-9A-Za-z-]+';
const SEMVER = new RegExp(
  `^(${NUMERIC})\\.(${NUMERIC})\\.(${NUMERIC})` +
    `(?:-(${PRE_IDENT}(?:\\.${PRE_IDENT})*))?` +
    `(?:\\+(${BUILD_IDENT}(?:\\.${BUILD_IDENT})*))?$`,
);

export interface Version {
  readonly raw: string;
  readonly major: bigint;
  readonly minor: bigint;
  readonly patch: bigint;
  readonly pre: readonly string[];
  readonly build: string | undefined;
}

export function tryParseVersion(raw: string): Version | undefined {
  if (raw.length > 256) return undefined;
  const m = SEMVER.exec(raw);
  if (!m) return undefined;
  return {
    raw,
    major: BigInt(m[1]!),
    minor: BigInt(m[2]!),
    patch: BigInt(m[3]!),
    pre: m[4] === undefined ? [] : m[4].split('.'),
    build: m[5],
  };
}

/**
 * Longest version a publish may use. A version is one segment of the download, yank and unyank
 * URLs (the router refuses a segment past 100 characters, so a longer version could be published
 * but never downloaded) and a folder name in blob storage (at most 255 bytes on most filesystems).
 */
export const MAX_VERSION_LENGTH = 100;

/** Validates a version for publishing; throws `invalid-version` with what is wrong. */
export function parseVersion(raw: unknown): Version {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw invalid('invalid-version', 'the version is missing or empty');
  }
  if (raw.length > MAX_VERSION_LENGTH) {
    throw invalid(
      'invalid-version',
      `the version \`${raw.slice(0, 80)}...\` is too long (${raw.length} characters, at most ${MAX_VERSION_LENGTH})`,
    );
  }
  const version = tryParseVersion(raw);
  if (!version) {
    throw invalid('invalid-version', `\`${raw.slice(0, 80)}\` is not a valid semantic version (expected e.g. 1.2.3)`);
  }
  return version;
}

/** The part of a version that must be unique within a crate: everything but build metadata. */
export function versionKey(version: Version): string {
  const plus = version.raw.indexOf('+');
  return plus === -1 ? version.raw : version.raw.slice(0, plus);
}

function compareIdentifiers(a: string, b: string): number {
  const aNum = /^\d+$/.test(a);
  const bNum = /^\d+$/.test(b);
  if (aNum && bNum) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
  if (aNum) return -1;
  if (bNum) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** SemVer precedence; build metadata is ignored, as the spec says. */
export function compareVersions(a: Version, b: Version): number {
  for (const [x, y] of [
    [a.major, b.major],
    [a.minor, b.minor],
    [a.patch, b.patch],
  ] as const) {
    if (x !== y) return x < y ? -1 : 1;
  }
  // A release ranks above any of its pre-releases.
  if (a.pre.length === 0 || b.pre.length === 0) {
    return a.pre.length === b.pre.length ? 0 : a.pre.length === 0 ? 1 : -1;
  }
  for (let i = 0; i < Math.min(a.pre.length, b.pre.length); i++) {
    const c = compareIdentifiers(a.pre[i]!, b.pre[i]!);
    if (c !== 0) return c;
  }
  return a.pre.length - b.pre.length;
}
