// Quarantine with the real cargo against a mirrored upstream (Debian's nginx serving a static sparse
// index): Debian's real itoa 1.0.1, published an hour ago by its index line's pubtime, and an older
// 1.0.0 from a month ago. With `min_release_age = "3d"` cargo resolves 1.0.0; a Cargo.lock pinning
// 1.0.1 fails with cargo's output naming the version and its release time; an early release made
// with `cratekeeper policy release` (another process, as on another replica) lets it through, and
// the index file's ETag changes with it. (The quarantine ending by itself, with a moved clock, is in
// test/http/policy.test.ts.)

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { renderIndexLine } from '../../src/domain/index-line.js';
import { ensureDebianPackages } from '../support/apt.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { makeCrate } from '../support/crate-fixture.js';
import { crateBytes, indexEntryOf, readDebianCrates, sha256 } from '../support/debian-crates.js';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http-client.js';
import { startNginx, type RunningNginx } from '../support/nginx-server.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const HOUR = 3_600_000;
const pubtime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

describe('quarantine with the real cargo', () => {
  let nginx: RunningNginx;
  let registry: RunningRegistry;
  let configFile: string;
  let cargo: CargoSandbox;
  let app: string;
  let youngPublished = 0;

  before(async () => {
    ensureDebianPackages(['librust-itoa-dev']);
    const itoa = readDebianCrates().find((c) => c.name === 'itoa' && c.version === '1.0.1');
    assert.ok(itoa, "Debian's itoa 1.0.1");
    const old = await makeCrate('itoa', '1.0.0');
    const root = makeTempDir('cratekeeper-policy-index-');
    youngPublished = Math.floor((Date.now() - HOUR) / 1000) * 1000;
    nginx = await startNginx({
      root,
      prepare: (url) => {
        mkdirSync(join(root, 'index', 'it', 'oa'), { recursive: true });
        mkdirSync(join(root, 'crates', 'itoa'), { recursive: true });
        const oldLine = {
          ...indexEntryOf(itoa),
          vers: '1.0.0',
          deps: [],
          features: {},
          cksum: sha256(old),
          pubtime: pubtime(Date.now() - 30 * 24 * HOUR),
        };
        const youngLine = { ...indexEntryOf(itoa), cksum: sha256(crateBytes(itoa)), pubtime: pubtime(youngPublished) };
        writeFileSync(
          join(root, 'index', indexPathOf('itoa')),
          `${renderIndexLine(oldLine, false)}\n${renderIndexLine(youngLine, false)}\n`,
        );
        writeFileSync(join(root, 'crates', 'itoa', '1.0.0.crate'), old);
        writeFileSync(join(root, 'crates', 'itoa', '1.0.1.crate'), crateBytes(itoa));
        writeFileSync(join(root, 'index', 'config.json'), JSON.stringify({ dl: `${url}/crates/{crate}/{version}.crate` }));
      },
    });
    const dir = makeTempDir('cratekeeper-policy-config-');
    configFile = join(dir, 'cratekeeper.toml');
    writeFileSync(
      configFile,
      `[[upstreams]]\nname = "up"\nindex_url = "${nginx.url}/index/"\nindex_ttl_seconds = 0\nmin_release_age = "3d"\n`,
    );
    registry = await startRegistry({ args: ['--config', configFile] });
    cargo = new CargoSandbox('ck');
    cargo.configure(`${registry.url}/mirrors/up/index/`, '[source.crates-io]\nreplace-with = "ck"\n');
    app = cargo.createApp('app', ['itoa = "1"'], 'fn main() {}\n');
  });

  after(async () => {
    await registry?.stop();
    await nginx?.stop();
  });

  const env = () => ({ CARGO_REGISTRIES_CK_TOKEN: registry.adminToken! });
  const lockedItoa = () => /name = "itoa"\nversion = "([^"]+)"/.exec(readFileSync(join(app, 'Cargo.lock'), 'utf8'))?.[1];

  it('resolves the newest version old enough', async () => {
    ok(await cargo.run(['generate-lockfile'], { cwd: app, env: env() }), 'generate-lockfile');
    assert.equal(lockedItoa(), '1.0.0');
    ok(await cargo.run(['fetch'], { cwd: app, env: env() }), 'fetch');
  });

  let etagBefore = '';
  it('fails a Cargo.lock that pins the quarantined version, naming it and its release time', async () => {
    const lock = readFileSync(join(app, 'Cargo.lock'), 'utf8');
    const cksum = sha256(crateBytes(readDebianCrates().find((c) => c.name === 'itoa' && c.version === '1.0.1')!));
    writeFileSync(
      join(app, 'Cargo.lock'),
      lock.replace(
        /name = "itoa"\nversion = "1\.0\.0"\n(source = "[^"]+"\n)checksum = "[0-9a-f]+"/,
        `name = "itoa"\nversion = "1.0.1"\n$1checksum = "${cksum}"`,
      ),
    );
    assert.equal(lockedItoa(), '1.0.1');
    const fetched = await cargo.run(['fetch', '--locked'], { cwd: app, env: env() });
    assert.notEqual(fetched.code, 0, fetched.stdout);
    const releasedAt = pubtime(youngPublished + 72 * HOUR);
    assert.match(fetched.stderr, new RegExp(`itoa@1\\.0\\.1 is in quarantine until ${releasedAt}`), fetched.stderr);
    const index = await httpRequest(`${registry.url}/mirrors/up/index/it/oa/itoa`, { headers: { authorization: registry.adminToken! } });
    etagBefore = String(index.headers.etag);
  });

  it('lets the version through once an administrator releases it early, with a new index ETag', async () => {
    const released = await runCli([
      'policy',
      'release',
      'itoa@1.0.1',
      '--reason',
      'reviewed',
      '--config',
      configFile,
      '--data-dir',
      registry.dataDir,
    ]);
    assert.equal(released.code, 0, released.stderr);
    // The server follows the change feed (cache.poll_interval_ms): ask until it has.
    await eventually(
      async () => ok(await cargo.run(['fetch', '--locked'], { cwd: app, env: env() }), 'fetch after the release'),
      30_000,
      200,
    );
    const index = await httpRequest(`${registry.url}/mirrors/up/index/it/oa/itoa`, { headers: { authorization: registry.adminToken! } });
    assert.notEqual(String(index.headers.etag), etagBefore);
    assert.match(index.body.toString(), /"vers":"1\.0\.1"/);
  });
});
