// Licence rules and one registry for private and mirrored crates, with the real cargo. Upstream A
// is a second cratekeeper holding Debian's real crates (serde_json's closure: itoa is
// "MIT OR Apache-2.0", ryu "Apache-2.0 OR BSL-1.0") and a small crate of ours with an MIT and a
// GPL version; it has no web API for licences, so the mirror reads them from the .crate files.
// The mirror serves A in its main index. Its policy: upstream A allows MIT only; local publishes
// allow MIT and Apache-2.0. cargo resolves around the versions A's rule hides, a local publish
// with another licence is refused with the rule in cargo's output, and a local crate that
// depends on a mirrored crate through the main index is published and then built against.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { ensureDebianPackages } from '../support/apt.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { dependency, makeTar, metadataFor } from '../support/crate-fixture.js';
import { closureOf, readDebianCrates, type DebianCrate } from '../support/debian-crates.js';
import { errorDetail, httpRequest, publish } from '../support/http-client.js';
import { publishAll } from '../support/mirror-upstreams.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

/** A publish body whose packaged Cargo.toml (and metadata) declare `license`. */
async function crateWithLicence(name: string, version: string, license: string): Promise<Buffer> {
  const manifest = `[package]\nname = "${name}"\nversion = "${version}"\nedition = "2021"\nlicense = "${license}"\n`;
  const prefix = `${name}-${version}`;
  const crate = gzipSync(
    await makeTar([
      { name: `${prefix}/Cargo.toml`, body: manifest },
      { name: `${prefix}/src/lib.rs`, body: `pub fn version() -> &'static str { "${version}" }\n` },
    ]),
  );
  return encodePublishBody(metadataFor(name, version, { license }), crate);
}

/** Stores policy settings in a registry's database before its server starts (as `policy set` would). */
async function presetPolicy(dataDir: string, settings: Array<[source: string, key: string, value: unknown]>): Promise<void> {
  const db = await openSqliteDatabase(join(dataDir, 'cratekeeper.sqlite3'), { migrations: 'apply' });
  try {
    for (const [source, key, value] of settings)
      await db.policy.setSetting(source, key, JSON.stringify(value), 'test', new Date(0).toISOString());
  } finally {
    await db.close();
  }
}

describe('licence rules and main-index dependencies, with the real cargo', () => {
  let crates: DebianCrate[];
  let upstreamA: RunningRegistry;
  let mirror: RunningRegistry;
  let cargo: CargoSandbox;
  const versionOf = (name: string) => crates.find((c) => c.name === name)!.version;
  const env = () => ({ CARGO_REGISTRIES_CK_TOKEN: mirror.adminToken! });
  const get = (path: string) => httpRequest(`${mirror.url}${path}`, { headers: { authorization: mirror.adminToken! } });
  const lockedVersions = (app: string) =>
    [...readFileSync(join(app, 'Cargo.lock'), 'utf8').matchAll(/name = "([^"]+)"\nversion = "([^"]+)"/g)].map((m) => `${m[1]}@${m[2]}`);

  before(async () => {
    ensureDebianPackages(['librust-serde-json-dev']);
    crates = closureOf(['serde_json'], readDebianCrates());
    assert.ok(crates.some((c) => c.name === 'ryu') && crates.some((c) => c.name === 'itoa'), crates.map((c) => c.name).join(', '));

    upstreamA = await startRegistry({ env: { CRATEKEEPER_RATE_LIMITS__PUBLISH_PER_MINUTE: '100000' } });
    await publishAll(upstreamA.url, upstreamA.adminToken!, crates);
    for (const [version, license] of [
      ['1.0.0', 'MIT'],
      ['1.1.0', 'GPL-3.0-only'],
    ]) {
      const res = await publish(upstreamA.url, upstreamA.adminToken!, await crateWithLicence('lic-demo', version!, license!));
      assert.equal(res.status, 200, res.body.toString());
    }

    const dir = makeTempDir('cratekeeper-licences-config-');
    const netrc = join(dir, 'netrc');
    writeFileSync(netrc, `machine 127.0.0.1:${new URL(upstreamA.url).port} login cratekeeper password ${upstreamA.adminToken}\n`, {
      mode: 0o600,
    });
    const config = join(dir, 'cratekeeper.toml');
    writeFileSync(
      config,
      `[[upstreams]]\nname = "a"\nindex_url = "sparse+${upstreamA.url}/index/"\nindex_ttl_seconds = 0\nmain_index = true\n` +
        `auth = { netrc = "${netrc}" }\n`,
    );
    const dataDir = makeTempDir('cratekeeper-licences-data-');
    await presetPolicy(dataDir, [
      ['upstream:a', 'licences_allow', ['MIT']],
      ['local', 'licences_allow', ['MIT', 'Apache-2.0']],
    ]);
    mirror = await startRegistry({ dataDir, args: ['--config', config] });
    cargo = new CargoSandbox('ck');
    cargo.configure(`${mirror.url}/index/`);
  });

  after(async () => {
    await mirror?.stop();
    await upstreamA?.stop();
  });

  it("hides an upstream crate whose licence the upstream's rule does not allow: cargo cannot resolve it", async () => {
    // ryu is "Apache-2.0 OR BSL-1.0": neither is MIT. itoa is "MIT OR Apache-2.0".
    const hidden = cargo.createApp('wants-ryu', ['ryu = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    const refused = await cargo.run(['fetch'], { cwd: hidden, env: env() });
    assert.notEqual(refused.code, 0, refused.stderr);
    assert.match(refused.stderr, /failed to select a version for the requirement `ryu = "\^1"`|no matching package named `ryu` found/);

    const download = await get(`/api/v1/crates/ryu/${versionOf('ryu')}/download`);
    assert.equal(download.status, 403);
    assert.match(
      errorDetail(download),
      /ryu@[^ ]+ is held back: licence `Apache-2\.0 OR BSL-1\.0` is not allowed in upstream `a` \(`Apache-2\.0` is not allowed, `BSL-1\.0` is not allowed\): allowed are MIT/,
    );

    const allowed = cargo.createApp('wants-itoa', ['itoa = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    ok(await cargo.run(['fetch'], { cwd: allowed, env: env() }), 'cargo fetch itoa');
    // The mirror's own registry of the upstream applies the same rule: the version is marked yanked there too.
    const mirrored = await get(`/mirrors/a/index/${indexPathOf('ryu')}`);
    const line = JSON.parse(mirrored.body.toString().trim()) as { vers: string; yanked: boolean };
    assert.deepEqual([line.vers, line.yanked], [versionOf('ryu'), true]);
  });

  it('resolves an older version whose licence is allowed', async () => {
    const app = cargo.createApp(
      'wants-lic-demo',
      ['lic-demo = { version = "1", registry = "ck" }'],
      'fn main() { println!("{}", lic_demo::version()); }\n',
    );
    const run = ok(await cargo.run(['run', '-q'], { cwd: app, env: env() }), 'cargo run with lic-demo');
    assert.equal(run.stdout.trim(), '1.0.0');
    assert.ok(lockedVersions(app).includes('lic-demo@1.0.0'), lockedVersions(app).join(', '));
  });

  it("refuses a local publish whose licence breaks the registry's rule, with the rule in cargo's output, storing nothing", async () => {
    const pkg = cargo.createPackage({ name: 'gpl-tool', version: '0.1.0' });
    const manifest = join(pkg, 'Cargo.toml');
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('license = "MIT"', 'license = "GPL-3.0-only"'));
    const res = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg, env: env() });
    assert.notEqual(res.code, 0);
    assert.match(
      res.stderr,
      /gpl-tool@0\.1\.0 cannot be published: licence `GPL-3\.0-only` is not allowed in this registry: allowed are MIT, Apache-2\.0/,
    );
    assert.equal((await get(`/index/${indexPathOf('gpl-tool')}`)).status, 404);
    const stored = join(mirror.dataDir, 'blobs', 'crates', 'gpl-tool');
    assert.ok(!existsSync(stored) || readdirSync(stored, { recursive: true }).length === 0, 'a blob was stored');
  });

  it('publishes a local crate that depends on a mirrored crate through the main index, then builds against it', async () => {
    const lib = cargo.createPackage({
      name: 'company-lib',
      version: '0.1.0',
      dependencies: ['itoa = { version = "1", registry = "ck" }'],
      lib: 'pub fn format(n: u64) -> String { itoa::Buffer::new().format(n).to_string() }\n',
    });
    // With verification: cargo builds the package against itoa from the main index first.
    const published = ok(
      await cargo.run(['publish', '--registry', 'ck', '--allow-dirty'], { cwd: lib, env: env() }),
      'publish company-lib',
    );
    assert.match(published.stderr, /Published company-lib v0\.1\.0 at registry `ck`/);
    const line = JSON.parse((await get(`/index/${indexPathOf('company-lib')}`)).body.toString().trim()) as {
      deps: Array<{ name: string; registry: unknown }>;
    };
    assert.deepEqual(
      line.deps.map((d) => [d.name, d.registry ?? null]),
      [['itoa', null]],
    );

    const app = cargo.createApp(
      'uses-company-lib',
      ['company-lib = { version = "0.1", registry = "ck" }'],
      'fn main() { println!("{}", company_lib::format(1234)); }\n',
    );
    const run = ok(await cargo.run(['run', '-q'], { cwd: app, env: env() }), 'cargo run against company-lib');
    assert.equal(run.stdout.trim(), '1234');
    assert.ok(lockedVersions(app).includes(`itoa@${versionOf('itoa')}`), lockedVersions(app).join(', '));
  });

  it('still refuses a dependency on a name that exists nowhere', async () => {
    const body = encodePublishBody(
      metadataFor('depends-on-nothing', '0.1.0', { deps: [dependency('no-such-crate-anywhere', '^1')] }),
      gzipSync(
        await makeTar([
          {
            name: 'depends-on-nothing-0.1.0/Cargo.toml',
            body: '[package]\nname = "depends-on-nothing"\nversion = "0.1.0"\nlicense = "MIT"\n',
          },
          { name: 'depends-on-nothing-0.1.0/src/lib.rs', body: '' },
        ]),
      ),
    );
    const res = await publish(mirror.url, mirror.adminToken!, body);
    assert.equal(res.status, 400);
    assert.match(errorDetail(res), /no crate named `no-such-crate-anywhere` exists in this registry/);
  });
});
