import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { inspectCrateTarball } from '../../src/domain/crate-tarball.js';
import { makeCrate, makeTar, manifestFor } from '../support/crate-fixture.js';

const limits = { maxUnpackedBytes: 1024 * 1024, maxEntries: 100, maxManifestBytes: 4096 };
const expected = { name: 'foo', version: '1.0.0' };
const inspect = (bytes: Buffer) => inspectCrateTarball(bytes, expected, limits);

describe('crate tarball', () => {
  it('accepts a well-formed crate and reads its manifest', async () => {
    const contents = await inspect(await makeCrate('foo', '1.0.0'));
    assert.equal((contents.manifest.package as { name: string }).name, 'foo');
    assert.equal(contents.fileCount, 2);
  });

  it('refuses data that is not gzip, not tar, or empty', async () => {
    await assert.rejects(inspect(Buffer.from('plain text, not a crate')), /not gzip-compressed/);
    await assert.rejects(inspect(Buffer.from([0x1f, 0x8b, 1, 2, 3])), /not valid gzip/);
    await assert.rejects(inspect(gzipSync(Buffer.from('x'.repeat(2000)))), /not a valid tar archive|not a tar archive/);
    await assert.rejects(inspect(gzipSync(Buffer.alloc(0))), /not a tar archive, or an empty one/);
  });

  it('refuses entries outside name-version/, absolute paths and ..', async () => {
    const good = { name: 'foo-1.0.0/Cargo.toml', body: manifestFor('foo', '1.0.0') };
    const crateWith = async (name: string) => gzipSync(await makeTar([good, { name, body: 'x' }]));
    await assert.rejects(inspect(await crateWith('other/file.rs')), /`other\/file\.rs`, outside the `foo-1\.0\.0\/` folder/);
    await assert.rejects(inspect(await crateWith('/etc/passwd')), /absolute path/);
    await assert.rejects(inspect(await crateWith('foo-1.0.0/../../evil')), /path with `\.\.`/);
  });

  it('refuses links', async () => {
    const good = { name: 'foo-1.0.0/Cargo.toml', body: manifestFor('foo', '1.0.0') };
    for (const type of ['symlink', 'link'] as const) {
      const bytes = gzipSync(await makeTar([good, { name: 'foo-1.0.0/l', type, linkname: '/etc/passwd' }]));
      await assert.rejects(inspect(bytes), /contains a link: `foo-1\.0\.0\/l`/);
    }
  });

  it('requires a Cargo.toml that matches the metadata', async () => {
    await assert.rejects(
      inspect(gzipSync(await makeTar([{ name: 'foo-1.0.0/src/lib.rs', body: '' }]))),
      /has no `foo-1\.0\.0\/Cargo\.toml`/,
    );
    await assert.rejects(
      inspect(gzipSync(await makeTar([{ name: 'foo-1.0.0/Cargo.toml', body: '[package\nname=' }]))),
      /Cargo\.toml is not valid TOML/,
    );
    await assert.rejects(
      inspect(gzipSync(await makeTar([{ name: 'foo-1.0.0/Cargo.toml', body: manifestFor('bar', '1.0.0') }]))),
      /names package `bar`, but the publish metadata says `foo`/,
    );
    await assert.rejects(
      inspect(gzipSync(await makeTar([{ name: 'foo-1.0.0/Cargo.toml', body: manifestFor('foo', '2.0.0') }]))),
      /has version `2\.0\.0`, but the publish metadata says `1\.0\.0`/,
    );
  });

  it('refuses a crate that unpacks beyond the limit (compression bombs)', async () => {
    const bomb = await makeCrate('foo', '1.0.0', [{ name: 'foo-1.0.0/big', body: '0'.repeat(2 * 1024 * 1024) }]);
    assert.ok(bomb.length < 10_000);
    await assert.rejects(inspect(bomb), /unpacks to more than 1048576 bytes/);
  });

  it('checks as a stream: a crate that unpacks to 384 MiB is never held in memory', async () => {
    const prefix = 'foo-1.0.0';
    const manifest = await makeTar([{ name: `${prefix}/Cargo.toml`, body: manifestFor('foo', '1.0.0') }]);
    const size = 384 * 1024 ** 2;
    // A tar of the manifest and one file of zeros, gzipped as a stream.
    const zerosHeader = (await makeTar([{ name: `${prefix}/zeros`, body: '' }])).subarray(0, 512);
    zerosHeader.write(size.toString(8).padStart(11, '0') + '\0', 124);
    zerosHeader.write('        ', 148);
    let sum = 0;
    for (const b of zerosHeader) sum += b;
    zerosHeader.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    const gzip = createGzip({ level: 1 });
    const out: Buffer[] = [];
    gzip.on('data', (c: Buffer) => out.push(c));
    const done = once(gzip, 'end');
    gzip.write(manifest.subarray(0, manifest.length - 1024)); // without the end-of-archive blocks
    gzip.write(zerosHeader);
    const block = Buffer.alloc(1024 * 1024);
    for (let left = size + 1024; left > 0; left -= block.length) if (!gzip.write(block)) await once(gzip, 'drain');
    gzip.end();
    await done;
    const crate = Buffer.concat(out);

    const before = process.memoryUsage().rss;
    const contents = await inspectCrateTarball(crate, expected, { maxUnpackedBytes: 2 * size, maxEntries: 10, maxManifestBytes: 4096 });
    assert.equal(contents.fileCount, 2);
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - before;
    assert.ok(peakGrowth < 128 * 1024 ** 2, `peak memory grew by ${Math.round(peakGrowth / 1024 ** 2)} MiB while checking 384 MiB`);
  });

  it('refuses duplicate paths and too many entries', async () => {
    const good = { name: 'foo-1.0.0/Cargo.toml', body: manifestFor('foo', '1.0.0') };
    await assert.rejects(
      inspect(gzipSync(await makeTar([good, { name: 'foo-1.0.0/a' }, { name: 'foo-1.0.0/A' }]))),
      /`foo-1\.0\.0\/A` more than once/,
    );
    await assert.rejects(inspect(gzipSync(await makeTar([good, good]))), /`foo-1\.0\.0\/Cargo\.toml` more than once/);
    const many = Array.from({ length: 101 }, (_, i) => ({ name: `foo-1.0.0/f${i}` }));
    await assert.rejects(inspect(gzipSync(await makeTar([good, ...many]))), /more than 100 entries \(publish\.max_files\)/);
  });
});
