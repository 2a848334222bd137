// Every way a publish can be wrong: the answer names the problem in cargo's error shape, and
// nothing a client can observe changes (index file, blobs, owners).

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { dependency, makeCrate, makeTar, manifestFor, metadataFor, publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
  } catch {
    return [];
  }
}

describe('publish validation', () => {
  let r: TestRegistry;
  const publish = (payload: Buffer, token = r.adminToken, headers: Record<string, string> = {}) =>
    r.request({ method: 'PUT', url: '/api/v1/crates/new', token, payload, headers });

  /** Publishes `payload`, expects `status` and a detail matching `detail`, and no change at all. */
  async function refused(payload: Buffer, status: number, detail: RegExp, token?: string): Promise<void> {
    const names = ['existing', 'newcrate'];
    const before = await Promise.all(names.map((n) => r.snapshot(n)));
    const blobsBefore = listFiles(join(r.dataDir, 'blobs'));
    const res = await publish(payload, token);
    assert.equal(res.statusCode, status, res.body);
    const body = JSON.parse(res.body);
    assert.equal(body.errors.length, 1);
    assert.match(body.errors[0].detail, detail);
    assert.deepEqual(await Promise.all(names.map((n) => r.snapshot(n))), before, 'stored crates changed');
    assert.deepEqual(listFiles(join(r.dataDir, 'blobs')), blobsBefore, 'a blob was written');
  }

  before(async () => {
    r = await startTestRegistry({ 'publish.max_size': '64KiB' });
    const res = await publish(await publishBodyFor('existing', '1.0.0'));
    assert.equal(res.statusCode, 200, res.body);
  });
  after(() => r.close());

  it('accepts a valid publish and answers with warnings', async () => {
    const res = await publish(await publishBodyFor('existing', '1.1.0'));
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(res.body), { warnings: { invalid_categories: [], invalid_badges: [], other: [] } });
  });

  it('refuses broken framing', async () => {
    const good = await publishBodyFor('newcrate', '1.0.0');
    await refused(Buffer.alloc(0), 400, /truncated: expected a 4-byte metadata length/);
    await refused(good.subarray(0, good.length - 10), 400, /crate file length is \d+ bytes, but only \d+ follow/);
    await refused(good.subarray(0, 20), 400, /metadata length is \d+ bytes, but only 16 follow/);
    const wrongLength = Buffer.from(good);
    wrongLength.writeUInt32LE(0xffffffff, 0);
    await refused(wrongLength, 400, /metadata length is 4294967295 bytes/);
  });

  it('refuses metadata that is not JSON or misses a field', async () => {
    const crate = await makeCrate('newcrate', '1.0.0');
    const raw = Buffer.from('{"name": "newcrate", ');
    const head = Buffer.alloc(4);
    head.writeUInt32LE(raw.length);
    const mid = Buffer.alloc(4);
    mid.writeUInt32LE(crate.length);
    await refused(Buffer.concat([head, raw, mid, crate]), 400, /not valid JSON/);
    const { deps: _deps, ...noDeps } = metadataFor('newcrate', '1.0.0');
    await refused(encodePublishBody(noDeps, crate), 400, /invalid publish metadata: deps: /);
  });

  it('refuses an upload over publish.max_size with 413, from Content-Length, before reading it', async () => {
    const big = await publishBodyFor('newcrate', '1.0.0');
    const res = await publish(big, r.adminToken, { 'content-length': String(65 * 1024) });
    assert.equal(res.statusCode, 413);
    assert.match(
      JSON.parse(res.body).errors[0].detail,
      /too large \(66560 bytes\): this registry accepts at most 65536 bytes \(publish\.max_size\)/,
    );
    const huge = encodePublishBody(metadataFor('newcrate', '1.0.0'), Buffer.alloc(70 * 1024, 1));
    await refused(huge, 413, /at most 65536 bytes/);
  });

  it('refuses bad crate names', async () => {
    const body = async (name: string) => encodePublishBody(metadataFor(name, '1.0.0'), await makeCrate(name, '1.0.0'));
    await refused(await body('9lives'), 400, /must start with an ASCII letter/);
    await refused(await body('has.dot'), 400, /contains `\.`/);
    await refused(await body('x'.repeat(65)), 400, /too long/);
    await refused(await body('std'), 400, /`std` is reserved/);
    await refused(await body('proc-macro'), 400, /reserved/);
  });

  it('refuses a name that differs from an existing crate only in case or -/_', async () => {
    await refused(await publishBodyFor('Existing', '9.0.0'), 409, /a crate named `existing` already exists/);
    const other = await r.userToken('mallory');
    await refused(await publishBodyFor('EXISTING', '9.0.0'), 409, /already exists/, other);
  });

  it('refuses versions that are not SemVer, or that exist (also with other build metadata)', async () => {
    const body = async (version: string) => encodePublishBody(metadataFor('existing', version), await makeCrate('existing', version));
    await refused(await body('1.0'), 400, /`1\.0` is not a valid semantic version/);
    await refused(await body('v1.0.0'), 400, /not a valid semantic version/);
    await refused(await publishBodyFor('existing', '1.0.0'), 409, /crate `existing` version `1\.0\.0` already exists/);
    await refused(await publishBodyFor('existing', '1.0.0+other'), 409, /version `1\.0\.0` already exists/);
  });

  it('refuses tarballs that are not gzip or tar, or escape their folder', async () => {
    const meta = metadataFor('newcrate', '1.0.0');
    const manifest = { name: 'newcrate-1.0.0/Cargo.toml', body: manifestFor('newcrate', '1.0.0') };
    await refused(encodePublishBody(meta, Buffer.from('not gzip at all')), 400, /not gzip-compressed/);
    await refused(encodePublishBody(meta, gzipSync(Buffer.from('gzip but not tar'.repeat(100)))), 400, /not a (valid )?tar archive/);
    await refused(
      encodePublishBody(meta, gzipSync(await makeTar([manifest, { name: 'elsewhere/x', body: '' }]))),
      400,
      /outside the `newcrate-1\.0\.0\/` folder/,
    );
    await refused(encodePublishBody(meta, gzipSync(await makeTar([manifest, { name: '/abs', body: '' }]))), 400, /absolute path/);
    await refused(
      encodePublishBody(meta, gzipSync(await makeTar([manifest, { name: 'newcrate-1.0.0/../../x', body: '' }]))),
      400,
      /`\.\.`/,
    );
    await refused(
      encodePublishBody(meta, gzipSync(await makeTar([manifest, { name: 'newcrate-1.0.0/l', type: 'symlink', linkname: '../../etc' }]))),
      400,
      /contains a link/,
    );
    await refused(
      encodePublishBody(meta, gzipSync(await makeTar([{ name: 'newcrate-1.0.0/src/lib.rs', body: '' }]))),
      400,
      /has no `newcrate-1\.0\.0\/Cargo\.toml`/,
    );
    await refused(encodePublishBody(meta, await makeCrate('othername', '1.0.0')), 400, /outside the `newcrate-1\.0\.0\/` folder/);
    const mismatched = gzipSync(await makeTar([{ name: 'newcrate-1.0.0/Cargo.toml', body: manifestFor('newcrate', '2.0.0') }]));
    await refused(encodePublishBody(meta, mismatched), 400, /has version `2\.0\.0`, but the publish metadata says `1\.0\.0`/);
  });

  it('allows dependencies on crates.io and on this registry, and refuses other registries and unknown crates', async () => {
    const withDeps = async (deps: unknown[]) =>
      encodePublishBody(metadataFor('newcrate', '1.0.0', { deps }), await makeCrate('newcrate', '1.0.0'));
    await refused(
      await withDeps([dependency('evil', '^1', { registry: 'https://evil.example/index' })]),
      400,
      /dependency 1 \(`evil`\) comes from registry https:\/\/evil\.example\/index, which this registry does not allow/,
    );
    await refused(await withDeps([dependency('nosuchcrate', '^1')]), 400, /no crate named `nosuchcrate` exists in this registry/);

    const ok = await publish(
      await withDeps([
        dependency('existing', '^1'),
        dependency('serde', '^1', { registry: 'https://github.com/rust-lang/crates.io-index', kind: 'dev' }),
        dependency('existing', '^1', { explicit_name_in_toml: 'renamed', kind: 'build' }),
      ]),
    );
    assert.equal(ok.statusCode, 200, ok.body);
    const index = await r.request({ method: 'GET', url: '/index/ne/wc/newcrate', token: r.adminToken });
    const deps = JSON.parse(index.body).deps;
    assert.deepEqual(deps[0], {
      name: 'existing',
      req: '^1',
      features: [],
      optional: false,
      default_features: true,
      target: null,
      kind: 'normal',
    });
    assert.equal(deps[1].registry, 'https://github.com/rust-lang/crates.io-index');
    assert.equal(deps[2].name, 'renamed');
    assert.equal(deps[2].package, 'existing');
  });

  it('needs a token, and an owner for a new version', async () => {
    await refused(await publishBodyFor('existing', '3.0.0'), 401, /requires a token/, '');
    await refused(await publishBodyFor('existing', '3.0.0'), 401, /token rejected/, 'ckt_not_a_real_token');
    const stranger = await r.userToken('stranger');
    await refused(await publishBodyFor('existing', '3.0.0'), 403, /you are not an owner of crate `existing`/, stranger);
  });

  it('makes the publisher of a new crate its owner', async () => {
    const alice = await r.userToken('alice');
    assert.equal((await publish(await publishBodyFor('alices-crate', '0.1.0'), alice)).statusCode, 200);
    const owners = await r.request({ method: 'GET', url: '/api/v1/crates/alices-crate/owners', token: alice });
    assert.deepEqual(
      JSON.parse(owners.body).users.map((u: { login: string }) => u.login),
      ['alice'],
    );
    assert.equal((await publish(await publishBodyFor('alices-crate', '0.2.0'), alice)).statusCode, 200);
  });
});
