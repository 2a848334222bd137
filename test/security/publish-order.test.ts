// Order before cost, on the publish path: who may publish what is decided before anything
// expensive, the tarball is checked as a stream with bounded memory on a worker thread, and the
// counts a hostile archive can inflate (entries, manifest, metadata, duplicate paths) are bounded
// with a message that says which limit was hit. Every refusal leaves the stored data unchanged.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import { createGzip, gzipSync } from 'node:zlib';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { makeTar, manifestFor, metadataFor, publishBodyFor, type TarEntrySpec } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { tarHeader } from '../support/tar-header.js';

const detail = (body: string) => (JSON.parse(body) as { errors: { detail: string }[] }).errors[0]!.detail;

function manifestEntry(name: string, version: string): Buffer {
  const manifest = Buffer.from(manifestFor(name, version));
  return Buffer.concat([
    tarHeader(`${name}-${version}/Cargo.toml`, manifest.length),
    manifest,
    Buffer.alloc((512 - (manifest.length % 512)) % 512),
  ]);
}

/** Gzips `head` followed by `zeros` zero bytes, streamed, so the test never holds them unpacked. */
async function gzipWithZeros(head: Buffer, zeros: number): Promise<Buffer> {
  const gzip = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gzip.on('data', (c: Buffer) => out.push(c));
  const done = once(gzip, 'end');
  gzip.write(head);
  const block = Buffer.alloc(1024 * 1024);
  for (let left = zeros; left > 0; left -= block.length) {
    if (!gzip.write(left >= block.length ? block : block.subarray(0, left))) await once(gzip, 'drain');
  }
  gzip.end();
  await done;
  return Buffer.concat(out);
}

/** A .crate with one file of `unpacked` zero bytes: a few hundred KiB that unpack to much more. */
function bomb(name: string, version: string, unpacked: number): Promise<Buffer> {
  return gzipWithZeros(Buffer.concat([manifestEntry(name, version), tarHeader(`${name}-${version}/zeros`, unpacked)]), unpacked + 1024);
}

/** A .crate with `count` empty files. */
function manyEmptyFiles(name: string, version: string, count: number): Buffer {
  const parts = [manifestEntry(name, version)];
  for (let i = 0; i < count; i++) parts.push(tarHeader(`${name}-${version}/${i}`, 0));
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

describe('publish: order before cost', () => {
  let r: TestRegistry;
  const publish = (token: string, payload: Buffer) => r.request({ method: 'PUT', url: '/api/v1/crates/new', token, payload });

  before(async () => {
    r = await startTestRegistry({
      'publish.max_files': '50',
      'publish.max_manifest_size': '2KiB',
      'publish.max_metadata_size': '8KiB',
      'publish.max_unpacked_size': '64MiB',
    });
    assert.equal((await publish(r.adminToken, await publishBodyFor('existing', '1.0.0'))).statusCode, 200);
  });
  after(() => r.close());

  it('refuses a read-only token before the tarball is looked at', async () => {
    const readOnly = (await r.registry.accounts.createToken('admin', 'read', { scopes: ['read'] })).token;
    const payload = encodePublishBody(metadataFor('bombed', '1.0.0'), await bomb('bombed', '1.0.0', 200 * 1024 * 1024));
    assert.ok(payload.length < 300 * 1024, `the bomb is small: ${payload.length} bytes`);
    const checks = r.registry.cpu.completed;
    const res = await publish(readOnly, payload);
    assert.equal(res.statusCode, 403);
    assert.match(detail(res.body), /lacks the `publish-new` and `publish-update` scopes/);
    assert.equal(r.registry.cpu.completed, checks, 'no tarball check ran');
  });

  it('refuses a publisher who may not update a crate before the tarball is looked at', async () => {
    const stranger = await r.userToken('stranger');
    const checks = r.registry.cpu.completed;
    const res = await publish(stranger, encodePublishBody(metadataFor('existing', '2.0.0'), await bomb('existing', '2.0.0', 1024)));
    assert.equal(res.statusCode, 403);
    assert.match(detail(res.body), /not an owner of crate `existing`/);
    const taken = await publish(r.adminToken, encodePublishBody(metadataFor('existing', '1.0.0'), await bomb('existing', '1.0.0', 1024)));
    assert.equal(taken.statusCode, 409);
    assert.equal(r.registry.cpu.completed, checks, 'no tarball check ran');
  });

  it('refuses a compression bomb from a publisher, checked in a worker', async () => {
    const checks = r.registry.cpu.completed;
    const res = await publish(
      r.adminToken,
      encodePublishBody(metadataFor('bombed', '1.0.0'), await bomb('bombed', '1.0.0', 200 * 1024 * 1024)),
    );
    assert.equal(res.statusCode, 413);
    assert.match(detail(res.body), /unpacks to more than 67108864 bytes/);
    assert.equal(r.registry.cpu.completed, checks + 1, 'the check ran on the pool');
    assert.equal((await r.request({ method: 'GET', url: '/index/bo/mb/bombed', token: r.adminToken })).statusCode, 404);
  });

  it('refuses a path that occurs twice, in any spelling a file system would merge', async () => {
    const manifest = { name: 'twice-1.0.0/Cargo.toml', body: manifestFor('twice', '1.0.0') };
    const cases: [TarEntrySpec[], RegExp][] = [
      [
        [manifest, { name: 'twice-1.0.0/src/lib.rs', body: 'a' }, { name: 'twice-1.0.0/src/lib.rs', body: 'b' }],
        /contains `twice-1\.0\.0\/src\/lib\.rs` more than once/,
      ],
      [
        [manifest, { name: 'twice-1.0.0/Cargo.toml', body: manifestFor('other', '1.0.0') }],
        /contains `twice-1\.0\.0\/Cargo\.toml` more than once/,
      ],
      [[manifest, { name: 'twice-1.0.0/src/lib.rs' }, { name: 'twice-1.0.0/src/./lib.rs' }], /more than once/],
      [
        [manifest, { name: 'twice-1.0.0/README.md' }, { name: 'twice-1.0.0/readme.md' }],
        /contains `twice-1\.0\.0\/readme\.md` more than once/,
      ],
    ];
    for (const [entries, message] of cases) {
      const res = await publish(r.adminToken, encodePublishBody(metadataFor('twice', '1.0.0'), gzipSync(await makeTar(entries))));
      assert.equal(res.statusCode, 400, res.body);
      assert.match(detail(res.body), message);
    }
    assert.equal((await r.request({ method: 'GET', url: '/index/tw/ic/twice', token: r.adminToken })).statusCode, 404);
  });

  it('refuses too many entries, a large Cargo.toml, large or deeply nested metadata, naming the limit', async () => {
    const many = [
      { name: 'many-1.0.0/Cargo.toml', body: manifestFor('many', '1.0.0') },
      ...Array.from({ length: 60 }, (_, i) => ({ name: `many-1.0.0/f${i}` })),
    ];
    const tooMany = await publish(r.adminToken, encodePublishBody(metadataFor('many', '1.0.0'), gzipSync(await makeTar(many))));
    assert.equal(tooMany.statusCode, 413);
    assert.match(detail(tooMany.body), /more than 50 entries \(publish\.max_files\)/);

    const bigManifest = manifestFor('big', '1.0.0') + `description = "${'x'.repeat(4000)}"\n`;
    const big = await publish(
      r.adminToken,
      encodePublishBody(metadataFor('big', '1.0.0'), gzipSync(await makeTar([{ name: 'big-1.0.0/Cargo.toml', body: bigManifest }]))),
    );
    assert.equal(big.statusCode, 413);
    assert.match(detail(big.body), /Cargo\.toml is larger than 2048 bytes/);

    const longReadme = await publish(r.adminToken, await publishBodyFor('wordy', '1.0.0', { readme: 'x'.repeat(10_000) }));
    assert.equal(longReadme.statusCode, 413);
    assert.match(detail(longReadme.body), /metadata is \d+ bytes; this registry accepts at most 8192 \(publish\.max_metadata_size\)/);
    const deep = await publish(
      r.adminToken,
      await publishBodyFor('deep', '1.0.0', { badges: JSON.parse('['.repeat(40) + ']'.repeat(40)) as unknown }),
    );
    assert.equal(deep.statusCode, 400);
    assert.match(detail(deep.body), /publish metadata nests arrays and objects more than 32 levels deep/);
    for (const name of ['many', 'big', 'wordy', 'deep']) {
      assert.equal(
        (await r.request({ method: 'GET', url: `/index/${name.slice(0, 2)}/${name.slice(2, 4)}/${name}`, token: r.adminToken })).statusCode,
        404,
      );
    }
  });
});

describe('publish: the event loop stays free while a hostile tarball is checked', () => {
  let r: TestRegistry;
  before(async () => {
    // A limit high enough that the check takes a while, to see what else runs meanwhile.
    r = await startTestRegistry({ 'publish.max_files': '10000000', 'publish.max_size': '64MiB' });
  });
  after(() => r.close());

  it('answers /healthz and a cached index file before a 300,000-entry tarball is checked', async () => {
    assert.equal(
      (await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: await publishBodyFor('warm', '1.0.0') }))
        .statusCode,
      200,
    );
    assert.equal((await r.request({ method: 'GET', url: '/index/wa/rm/warm', token: r.adminToken })).statusCode, 200);
    const payload = encodePublishBody(metadataFor('flood', '1.0.0'), manyEmptyFiles('flood', '1.0.0', 300_000));
    const order: string[] = [];
    const hostile = r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload }).then((res) => {
      order.push('publish');
      return res;
    });
    // Wait until the check runs on the pool, then ask for what every other client needs.
    while (r.registry.cpu.active === 0 && order.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const health = await r.request({ method: 'GET', url: '/healthz' });
    order.push('healthz');
    const index = await r.request({ method: 'GET', url: '/index/wa/rm/warm', token: r.adminToken });
    order.push('index');
    assert.equal(health.statusCode, 200);
    assert.equal(index.statusCode, 200);
    assert.equal((await hostile).statusCode, 200);
    assert.deepEqual(order, ['healthz', 'index', 'publish']);
  });
});
