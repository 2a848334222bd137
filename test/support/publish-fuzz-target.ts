// The registry the publish fuzz campaign runs against (in process, through fastify's inject) and the
// judgement of one answer: never 5xx, a refusal in cargo's shape, no refusal of a clean publish of a
// free name, no acceptance of what the rules say must be refused, and an accepted publish that is
// downloadable with the right checksum and listed in the index. Shared by test/fuzz and by
// scripts/fuzz-publish.mjs (the long run), so both judge the same way.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { indexPathOf, normalizeCrateName } from '../../src/domain/crate-name.js';
import { startTestRegistry, type TestRegistry } from './in-process.js';
import { publishBodyFor } from './crate-fixture.js';
import { EXISTING_CRATE, type BuiltPublish, type Identity, type PublishLimits } from './publish-case.js';
import type { HangDetector } from './hang-guard.js';
import { assertCargoRefusal } from './stored-state.js';

/** Small limits, so that the campaign reaches them cheaply; rate limits out of the way. */
export const FUZZ_LIMITS: PublishLimits = {
  maxBodyBytes: 64 * 1024,
  maxMetadataBytes: 16 * 1024,
  maxUnpackedBytes: 256 * 1024,
  maxEntries: 24,
  maxManifestBytes: 16 * 1024,
};

export interface FuzzTarget {
  r: TestRegistry;
  tokens: Record<Identity, string>;
  logins: Record<Identity, string | undefined>;
}

export async function startFuzzTarget(limits: PublishLimits = FUZZ_LIMITS): Promise<FuzzTarget> {
  const r = await startTestRegistry({
    'publish.max_size': String(limits.maxBodyBytes),
    'publish.max_metadata_size': String(limits.maxMetadataBytes),
    'publish.max_unpacked_size': String(limits.maxUnpackedBytes),
    'publish.max_files': String(limits.maxEntries),
    'publish.max_manifest_size': String(limits.maxManifestBytes),
    'rate_limits.publish_per_minute': '1000000',
    'rate_limits.failed_auth_per_minute': '1000000',
    'cpu.threads': '1',
  });
  const mallory = await r.userToken('mallory');
  const seeded = await r.request({
    method: 'PUT',
    url: '/api/v1/crates/new',
    token: r.adminToken,
    payload: await publishBodyFor(EXISTING_CRATE, '1.0.0'),
  });
  assert.equal(seeded.statusCode, 200, seeded.body);
  return {
    r,
    tokens: { admin: r.adminToken, mallory, none: '', bogus: 'ckt_not_a_token_of_this_registry' },
    logins: { admin: 'admin', mallory: 'mallory', none: undefined, bogus: undefined },
  };
}

export interface Answer {
  status: number;
  body: string;
}

/** Sends one publish; rejects with HangError when no answer comes within the guard's limit. */
export async function sendPublish(target: FuzzTarget, built: BuiltPublish, guard: HangDetector): Promise<Answer> {
  const token = target.tokens[built.identity];
  const res = await guard.run(
    target.r.request({ method: 'PUT', url: '/api/v1/crates/new', payload: built.body, ...(token ? { token } : {}) }),
    'the publish request',
  );
  return { status: res.statusCode, body: res.body };
}

export type Verdict = { accepted: true } | { accepted: false; detail: string };

function describeInput(built: BuiltPublish): string {
  return `${built.identity} publishing ${JSON.stringify(built.name)} ${JSON.stringify(built.version)}, ${built.body.length} bytes`;
}

/**
 * Judges an answer. `existedBefore` says whether a crate with the same normalized name was stored
 * before the request (only then may a clean publish be refused, by ownership or a version clash).
 */
export function judgeAnswer(built: BuiltPublish, answer: Answer, existedBefore: boolean): Verdict {
  const context = describeInput(built);
  assert.ok(answer.status < 500, `a ${answer.status} answer: ${answer.body.slice(0, 500)} (${context})`);
  if (answer.status === 200) {
    assert.equal(built.mustRefuse, undefined, `accepted a publish that must be refused: ${built.mustRefuse} (${context})`);
    assert.deepEqual(JSON.parse(answer.body), { warnings: { invalid_categories: [], invalid_badges: [], other: [] } }, context);
    return { accepted: true };
  }
  const detail = assertCargoRefusal(answer.status, answer.body, context);
  if (built.clean && !existedBefore) assert.fail(`refused a clean publish of a free name with ${answer.status}: ${detail} (${context})`);
  if (built.clean) assert.ok([403, 409].includes(answer.status), `refused a clean publish with ${answer.status}: ${detail} (${context})`);
  return { accepted: false, detail };
}

/** Whether a crate with this name in any spelling is stored. */
export async function crateExists(target: FuzzTarget, name: string): Promise<boolean> {
  return (await target.r.registry.metadata.crates.findCrateName(normalizeCrateName(name))) !== undefined;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** What an accepted body published: the name and version its metadata says, and the .crate bytes. */
export function publishedBy(body: Buffer): { name: string; version: string; crate: Buffer } {
  const jsonLength = body.readUInt32LE(0);
  const metadata = JSON.parse(body.subarray(4, 4 + jsonLength).toString('utf8')) as { name: string; vers: string };
  return { name: metadata.name, version: metadata.vers, crate: body.subarray(8 + jsonLength) };
}

/** An accepted version can be downloaded (the same bytes) and its index line carries their checksum. */
export async function assertPublished(target: FuzzTarget, built: BuiltPublish): Promise<{ name: string; version: string; cksum: string }> {
  const token = target.tokens[built.identity];
  const { name, version, crate } = publishedBy(built.body);
  const cksum = sha256(crate);
  const download = await target.r.app.inject({
    method: 'GET',
    url: `/api/v1/crates/${name}/${encodeURIComponent(version)}/download`,
    headers: { authorization: token },
  });
  assert.equal(download.statusCode, 200, `download of accepted ${name} ${version}: ${download.body.slice(0, 300)}`);
  assert.equal(sha256(download.rawPayload), cksum, `the download of ${name} ${version} is not the bytes published`);
  const index = await target.r.app.inject({ method: 'GET', url: `/index/${indexPathOf(name)}`, headers: { authorization: token } });
  assert.equal(index.statusCode, 200, `index file of accepted ${name}: ${index.body.slice(0, 300)}`);
  const lines = index.body
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { name: string; vers: string; cksum: string });
  const line = lines.find((l) => l.vers === version);
  assert.ok(line, `the index file of ${name} has no line for ${version}`);
  assert.equal(line.cksum, cksum, `the index line of ${name} ${version} has another checksum`);
  assert.equal(line.name, name);
  return { name, version, cksum };
}
