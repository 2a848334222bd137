// Builders and assertions shared by the repository contracts (and the tests that store versions
// directly): NewVersion objects made the way services/publish.ts makes them, index dependencies,
// and a check for the typed errors the repositories must throw.

import assert from 'node:assert/strict';
import { normalizeCrateName } from '../../src/domain/crate-name.js';
import { RegistryError, type ErrorKind } from '../../src/domain/errors.js';
import { formatPubtime, type IndexDependency } from '../../src/domain/index-line.js';
import { parseVersion, versionKey } from '../../src/domain/version.js';
import { emptyVersionDetails, type NewVersion, type VersionDetails } from '../../src/ports/crates.js';
import type { TokenPrincipal } from '../../src/ports/tokens.js';

export function details(overrides: Partial<VersionDetails> = {}): VersionDetails {
  return { ...emptyVersionDetails(), license: 'MIT', ...overrides };
}

/** A plain normal dependency as an index entry lists it: `req` ^1, no features, from this registry. */
export function indexDependency(name: string, overrides: Partial<IndexDependency> = {}): IndexDependency {
  return {
    name,
    req: '^1',
    features: [],
    optional: false,
    default_features: true,
    target: null,
    kind: 'normal',
    registry: null,
    package: null,
    ...overrides,
  };
}

export function newVersion(
  name: string,
  vers: string,
  publisherId: number,
  overrides: { description?: string | null; cksum?: string } = {},
): NewVersion {
  const version = parseVersion(vers);
  const publishedAt = new Date();
  const cksum = overrides.cksum ?? `${name}-${vers}`.padEnd(64, '0').slice(0, 64);
  return {
    entry: {
      name,
      vers,
      deps: [],
      cksum,
      features: { default: [] },
      features2: null,
      links: null,
      rust_version: null,
      pubtime: formatPubtime(publishedAt),
    },
    versionKey: versionKey(version),
    normalizedName: normalizeCrateName(name),
    blobKey: `crates/${name.toLowerCase()}/${vers}/${cksum}.crate`,
    size: 100 + vers.length,
    details: details({ description: overrides.description ?? null }),
    publisherId,
    publishedAt: publishedAt.toISOString(),
  };
}

/** Asserts that `promise` rejects with a RegistryError of that kind and code. */
export async function rejectsWith(promise: Promise<unknown>, kind: ErrorKind, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof RegistryError, `expected a RegistryError, got ${String(error)}`);
    assert.equal(error.kind, kind);
    assert.equal(error.code, code);
    return true;
  });
}

/** A reader's token with no limits of its own: what access rules decide for `login` and its groups. */
export function readerPrincipal(login: string, groups: string[] = []): TokenPrincipal {
  return { tokenId: 1, userId: 1, login, isAdmin: false, expiresAt: null, scopes: null, cratePatterns: null, groups, origin: null };
}
