// What a publish may change, read straight from the store: every crate row, version row and owner,
// and every file in the blob folder. The fuzz campaign compares it before and after each refused
// publish (it must not change at all), and against the publishes it saw accepted.

import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import type { Registry } from '../../src/registry.js';

export interface StoredVersionRow {
  crate: string;
  vers: string;
  cksum: string;
  blobKey: string;
  size: number;
}

export interface StoredState {
  crates: Array<{ name: string; nameNormalized: string }>;
  versions: StoredVersionRow[];
  owners: Array<{ crate: string; login: string }>;
  ownerGroups: Array<{ crate: string; group: string }>;
  /** Blob files (relative path and size). */
  blobs: string[];
}

function listFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return `${relative(dir, path)} ${statSync(path).size}`;
    })
    .sort();
}

/** The whole stored state of crates (SQLite or PostgreSQL through the store's query builder). */
export async function readStoredState(registry: Registry, dataDir: string): Promise<StoredState> {
  const db = (registry.metadata as SqlMetadataDatabase).db;
  const crates = await sql<{ name: string; nameNormalized: string }>`
    select name, name_normalized as "nameNormalized" from crates order by name_normalized`.execute(db);
  const versions = await sql<StoredVersionRow>`
    select c.name as crate, v.vers, v.cksum, v.blob_key as "blobKey", v.size
    from versions v join crates c on c.id = v.crate_id order by c.name_normalized, v.vers`.execute(db);
  const owners = await sql<{ crate: string; login: string }>`
    select c.name as crate, u.login from crate_owners o join crates c on c.id = o.crate_id join users u on u.id = o.user_id
    order by c.name_normalized, u.login`.execute(db);
  const ownerGroups = await sql<{ crate: string; group: string }>`
    select c.name as crate, g.group_name as "group" from crate_owner_groups g join crates c on c.id = g.crate_id
    order by c.name_normalized, g.group_name`.execute(db);
  return {
    crates: crates.rows,
    versions: versions.rows.map((v) => ({ ...v, size: Number(v.size) })),
    owners: owners.rows,
    ownerGroups: ownerGroups.rows,
    blobs: listFiles(join(dataDir, 'blobs')),
  };
}

/** Fails unless the answer is a refusal in cargo's shape: 4xx and {"errors":[{"detail":"<non-empty>"}]}. */
export function assertCargoRefusal(status: number, body: string, context: string): string {
  assert.ok(status >= 400 && status < 500, `expected a 4xx refusal, got ${status} ${body.slice(0, 300)} (${context})`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    assert.fail(`the ${status} refusal is not JSON: ${body.slice(0, 300)} (${context})`);
  }
  const errors = (parsed as { errors?: unknown }).errors;
  assert.ok(Array.isArray(errors) && errors.length >= 1, `the ${status} refusal has no errors array: ${body.slice(0, 300)} (${context})`);
  const detail = (errors[0] as { detail?: unknown }).detail;
  assert.ok(typeof detail === 'string' && detail.trim() !== '', `the ${status} refusal has no detail: ${body.slice(0, 300)} (${context})`);
  return detail;
}

const key = (value: unknown) => JSON.stringify(value);

function added<T>(before: T[], after: T[], what: string): T[] {
  const was = new Set(before.map(key));
  const now = new Set(after.map(key));
  for (const k of was) assert.ok(now.has(k), `a stored ${what} disappeared: ${k}`);
  return after.filter((x) => !was.has(key(x)));
}

/** Fails unless `after` is `before` plus exactly the one version published (and its crate and owner when new). */
export function assertOnlyPublished(
  before: StoredState,
  after: StoredState,
  published: { name: string; version: string; cksum: string },
  login: string,
): void {
  const versions = added(before.versions, after.versions, 'version');
  assert.deepEqual(
    versions.map((v) => ({ crate: v.crate, vers: v.vers, cksum: v.cksum })),
    [{ crate: published.name, vers: published.version, cksum: published.cksum }],
    'an accepted publish stored other versions than its own',
  );
  const blobs = added(before.blobs, after.blobs, 'blob');
  assert.equal(blobs.length, 1, `an accepted publish wrote ${blobs.length} blobs: ${blobs.join(', ')}`);
  const crates = added(before.crates, after.crates, 'crate');
  const owners = added(before.owners, after.owners, 'owner');
  if (crates.length > 0) {
    assert.deepEqual(
      crates.map((c) => c.name),
      [published.name],
    );
    assert.deepEqual(owners, [{ crate: published.name, login }]);
  } else {
    assert.deepEqual(owners, [], 'publishing a version changed the owners');
  }
  assert.deepEqual(after.ownerGroups, before.ownerGroups);
}
