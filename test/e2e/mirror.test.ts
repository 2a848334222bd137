// Mirroring against real peers: upstream A is a second cratekeeper (auth required) holding Debian's
// real crates, reached with a token from a .netrc; upstream B is Debian's nginx serving a static
// sparse index behind HTTP Basic auth, reached with the `basic` pattern. The real cargo resolves
// through the mirrors with `[source.crates-io] replace-with`; lockfile checksums must equal the
// upstreams'. Then: upstream gone, offline, denied crates, a corrupted .crate, single-flight,
// the main-index merge with local shadowing, dependency confusion (also beside an offline upstream),
// `mirror sync` and `mirror status`.

import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { ensureDebianPackages } from '../support/apt.js';
import { closureOf, crateBytes, readDebianCrates, sha256, type DebianCrate } from '../support/debian-crates.js';
import { errorDetail, httpRequest, publish } from '../support/http-client.js';
import { publishAll, writeStaticIndex } from '../support/mirror-upstreams.js';
import { startNginx, type RunningNginx } from '../support/nginx-server.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

/** name@version → checksum of the registry packages in a Cargo.lock. */
function lockChecksums(lockfile: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of readFileSync(lockfile, 'utf8').matchAll(
    /name = "([^"]+)"\nversion = "([^"]+)"\nsource = "registry\+https:\/\/github\.com\/rust-lang\/crates\.io-index"\nchecksum = "([0-9a-f]{64})"/g,
  )) {
    out.set(`${m[1]}@${m[2]}`, m[3]!);
  }
  return out;
}

const SERDE_JSON_APP =
  'fn main() { let v: serde_json::Value = serde_json::from_str("{\\"a\\":[1,2]}").unwrap(); println!("{}", v["a"][1]); }\n';

describe('mirroring real upstreams', () => {
  let crates: DebianCrate[];
  let upstreamA: RunningRegistry;
  let nginx: RunningNginx;
  let nginxRoot: string;
  let mirror: RunningRegistry;
  let configFile: string;
  let netrcFile: string;
  let mirrorConfig: (options: { offlineA?: boolean }) => string;
  const secrets = { user: 'mirror', password: 'nginx-secret-1' };

  const sandboxFor = (upstream: string) => {
    const cargo = new CargoSandbox('ck');
    cargo.configure(`${mirror.url}/mirrors/${upstream}/index/`, '[source.crates-io]\nreplace-with = "ck"\n');
    return cargo;
  };
  let mirrorToken: string;
  const cargoEnv = () => ({ CARGO_REGISTRIES_CK_TOKEN: mirrorToken });
  /** The server's log reaches us through a pipe, maybe after its HTTP answer: wait a moment for it. */
  const logShows = async (pattern: RegExp) => {
    await eventually(() => assert.match(mirror.output(), pattern));
  };
  const blobFiles = (dir: string) => (existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : []);

  before(async () => {
    ensureDebianPackages(['librust-serde-json-dev']);
    crates = closureOf(['serde_json', 'indexmap'], readDebianCrates());
    assert.ok(crates.length >= 4, `expected serde_json's closure, got ${crates.map((c) => c.name).join(', ')}`);

    upstreamA = await startRegistry({ env: { CRATEKEEPER_RATE_LIMITS__PUBLISH_PER_MINUTE: '100000' } });
    await publishAll(upstreamA.url, upstreamA.adminToken!, crates);

    nginxRoot = makeTempDir('cratekeeper-static-index-');
    nginx = await startNginx({ root: nginxRoot, basicAuth: secrets, prepare: (url) => writeStaticIndex(nginxRoot, url, crates) });

    const dir = makeTempDir('cratekeeper-mirror-config-');
    netrcFile = join(dir, 'netrc');
    writeFileSync(
      netrcFile,
      `machine 127.0.0.1:${new URL(upstreamA.url).port} login cratekeeper password ${upstreamA.adminToken}\n` +
        `machine 127.0.0.1:${nginx.port} login ${secrets.user} password ${secrets.password}\n`,
      { mode: 0o600 },
    );
    configFile = join(dir, 'cratekeeper.toml');
    mirrorConfig = ({ offlineA = false }) => `
[[upstreams]]
name = "a"
index_url = "sparse+${upstreamA.url}/index/"
index_ttl_seconds = 0
stale_timeout_ms = 1500
timeout_ms = 5000
deny = ["indexmap"]
local_names = ["ryu"]
offline = ${offlineA}
auth = { netrc = "${netrcFile}" }

[[upstreams]]
name = "b"
index_url = "${nginx.url}/index/"
index_ttl_seconds = 0
main_index = true
local_names = ["ryu"]
auth = { netrc = "${netrcFile}", pattern = "basic" }
`;
    writeFileSync(configFile, mirrorConfig({}));
    mirror = await startRegistry({ args: ['--config', configFile], env: { CRATEKEEPER_LOG__LEVEL: 'info' } });
    mirrorToken = mirror.adminToken!;
  });

  after(async () => {
    await mirror?.stop();
    await upstreamA?.stop();
    await nginx?.stop();
  });

  it('needs a cratekeeper token, like every read', async () => {
    const anonymous = await httpRequest(`${mirror.url}/mirrors/a/index/config.json`);
    assert.equal(anonymous.status, 401);
    const config = await httpRequest(`${mirror.url}/mirrors/a/index/config.json`, { headers: { authorization: mirrorToken } });
    assert.equal(config.status, 200);
    assert.deepEqual(JSON.parse(config.body.toString()), { dl: `${mirror.url}/mirrors/a/crates`, 'auth-required': true });
  });

  it("cargo builds through the mirror of upstream A; Cargo.lock checksums are the upstream's", async () => {
    const cargo = sandboxFor('a');
    const app = cargo.createApp('via-a', ['serde_json = "1"'], SERDE_JSON_APP);
    const run = ok(await cargo.run(['run', '-q'], { cwd: app, env: cargoEnv() }), 'cargo run via mirror a');
    assert.equal(run.stdout.trim(), '2');
    const locked = lockChecksums(join(app, 'Cargo.lock'));
    assert.ok(locked.has(`serde_json@${crates.find((c) => c.name === 'serde_json')!.version}`));
    for (const [id, checksum] of locked) {
      const c = crates.find((x) => `${x.name}@${x.version}` === id)!;
      assert.equal(checksum, sha256(crateBytes(c)), `${id}: lockfile checksum differs from the upstream's`);
    }
    // The upstream's index lines, verbatim.
    const path = indexPathOf('serde_json');
    const upstreamLine = await httpRequest(`${upstreamA.url}/index/${path}`, { headers: { authorization: upstreamA.adminToken! } });
    const mirrored = await httpRequest(`${mirror.url}/mirrors/a/index/${path}`, { headers: { authorization: mirrorToken } });
    assert.equal(mirrored.body.toString(), upstreamLine.body.toString());
  });

  it('a denied crate is not found', async () => {
    const denied = await httpRequest(`${mirror.url}/mirrors/a/index/${indexPathOf('indexmap')}`, {
      headers: { authorization: mirrorToken },
    });
    assert.equal(denied.status, 404);
    const cargo = sandboxFor('a');
    const app = cargo.createApp('wants-denied', ['indexmap = "1"'], 'fn main() {}\n');
    const result = await cargo.run(['generate-lockfile'], { cwd: app, env: cargoEnv() });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /no matching package named `indexmap` found/);
  });

  it('cargo builds through the mirror of nginx (Basic auth); single-flight; ETag revalidation', async () => {
    const itoa = crates.find((c) => c.name === 'itoa')!;
    const downloadPath = `/mirrors/b/crates/itoa/${itoa.version}/download`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => httpRequest(`${mirror.url}${downloadPath}`, { headers: { authorization: mirrorToken } })),
    );
    for (const a of answers) assert.equal(sha256(a.body), sha256(crateBytes(itoa)));
    const fetches = nginx.accessLog().filter((l) => l.startsWith(`GET /crates/itoa/${itoa.version}.crate 200`));
    assert.equal(fetches.length, 1, `20 concurrent downloads caused ${fetches.length} upstream fetches`);

    const cargo = sandboxFor('b');
    const app = cargo.createApp('via-b', ['itoa = "1"'], 'fn main() { println!("{}", itoa::Buffer::new().format(42)); }\n');
    assert.equal(ok(await cargo.run(['run', '-q'], { cwd: app, env: cargoEnv() }), 'cargo run via mirror b').stdout.trim(), '42');
    assert.equal(lockChecksums(join(app, 'Cargo.lock')).get(`itoa@${itoa.version}`), sha256(crateBytes(itoa)));
    // index_ttl_seconds = 0: every request revalidates, and nginx answers 304 to the stored ETag.
    assert.ok(
      nginx.accessLog().some((l) => l === `GET /index/${indexPathOf('itoa')} 304`),
      nginx.accessLog().join('\n'),
    );
    assert.ok(nginx.accessLog().every((l) => !/ 401$/.test(l) || l.includes('config.json') === false));
  });

  it('a corrupted upstream .crate is refused and not cached', async () => {
    const victim = crates.find((c) => c.name === 'ryu')!;
    const file = join(nginxRoot, 'crates', victim.name, `${victim.version}.crate`);
    writeFileSync(file, Buffer.from('not the crate the index describes'));
    const url = `${mirror.url}/mirrors/b/crates/${victim.name}/${victim.version}/download`;
    const refused = await httpRequest(url, { headers: { authorization: mirrorToken } });
    assert.equal(refused.status, 503);
    assert.match(errorDetail(refused), /does not match the checksum in its index; refused/);
    await logShows(/upstream .crate does not match its index checksum/);
    assert.ok(
      !blobFiles(join(mirror.dataDir, 'blobs', 'mirror', 'b', 'crates')).some((f) => f.includes(victim.name)),
      'the bad bytes were cached',
    );

    writeFileSync(file, crateBytes(victim));
    const fixed = await httpRequest(url, { headers: { authorization: mirrorToken } });
    assert.equal(fixed.status, 200);
    assert.equal(sha256(fixed.body), sha256(crateBytes(victim)));
  });

  it('serves upstream B in the main index; a local crate shadows it; dependency confusion is refused', async () => {
    const auth = { authorization: mirrorToken };
    const itoaLine = await httpRequest(`${mirror.url}/index/${indexPathOf('itoa')}`, { headers: auth });
    assert.equal(itoaLine.status, 200);
    assert.equal(itoaLine.body.toString(), readFileSync(join(nginxRoot, 'index', indexPathOf('itoa')), 'utf8'));

    // cargo through the one main registry URL: a mirrored crate as a dependency of the project.
    const cargo = new CargoSandbox('ck');
    cargo.configure(`${mirror.url}/index/`);
    const app = cargo.createApp('main-index', ['itoa = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    ok(await cargo.run(['fetch'], { cwd: app, env: cargoEnv() }), 'cargo fetch through the main index');

    const confused = await publish(mirror.url, mirrorToken, await publishBodyFor('itoa', '99.0.0'));
    assert.equal(confused.status, 409);
    assert.match(errorDetail(confused), /belongs to a crate on upstream `a`.*dependency confusion/);

    // `ryu` is in local_names: it may be published, and then the local crate wins in the main index.
    const local = await publish(mirror.url, mirrorToken, await publishBodyFor('ryu', '9.9.9'));
    assert.equal(local.status, 200, local.body.toString());
    let body = '';
    for (let i = 0; i < 40 && !body.includes('9.9.9'); i++) {
      body = (await httpRequest(`${mirror.url}/index/${indexPathOf('ryu')}`, { headers: auth })).body.toString();
      if (!body.includes('9.9.9')) await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(body, /"vers":"9\.9\.9"/);
    assert.doesNotMatch(body, new RegExp(`"vers":"${crates.find((c) => c.name === 'ryu')!.version.replaceAll('.', '\\.')}"`));
    const download = await httpRequest(`${mirror.url}/api/v1/crates/ryu/9.9.9/download`, { headers: auth });
    assert.equal(download.status, 200);
  });

  it('with upstream A stopped, a fresh CARGO_HOME still builds from the cache', async () => {
    await upstreamA.stop();
    const cargo = sandboxFor('a');
    const app = cargo.createApp('after-upstream-stopped', ['serde_json = "1"'], SERDE_JSON_APP);
    const run = ok(await cargo.run(['run', '-q'], { cwd: app, env: cargoEnv() }), 'cargo run with the upstream stopped');
    assert.equal(run.stdout.trim(), '2');
    await logShows(/serving the cached copy/);

    const status = await runCli(['mirror', 'status', '--config', configFile, '--data-dir', mirror.dataDir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^a: http:\/\/127\.0\.0\.1:\d+\/index\/\n  index files cached: [1-9]\d* \([\d.]+ \w+\)\n  crates cached: +[1-9]\d* /m,
    );
    assert.match(status.stdout, /last error: +\S+ fetching .* failed/);
  });

  it('offline = true serves only the cache: an uncached crate is not found, nothing is fetched', async () => {
    await mirror.stop();
    writeFileSync(configFile, mirrorConfig({ offlineA: true }));
    mirror = await startRegistry({ dataDir: mirror.dataDir, args: ['--config', configFile], env: { CRATEKEEPER_LOG__LEVEL: 'info' } });
    const cargo = sandboxFor('a');
    const cached = cargo.createApp('offline-cached', ['serde_json = "1"'], SERDE_JSON_APP);
    ok(await cargo.run(['fetch'], { cwd: cached, env: cargoEnv() }), 'cargo fetch of cached crates, offline');

    const uncached = crates.find((c) => c.name === 'autocfg') ?? crates.find((c) => c.name === 'serde_derive');
    const name = uncached?.name ?? 'autocfg';
    const app = cargo.createApp('offline-uncached', [`${name} = "*"`], 'fn main() {}\n');
    const result = await cargo.run(['generate-lockfile'], { cwd: app, env: cargoEnv() });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, new RegExp(`no matching package named \`${name}\` found`));
    assert.ok(!blobFiles(join(mirror.dataDir, 'blobs', 'mirror', 'a', 'index')).some((f) => f.endsWith(`/${name}`)));

    // The offline upstream cannot say whether it has a name it never cached, so a new local crate
    // may not take it (upstream B, online, answers that it has no such crate); local_names frees it.
    const unverifiable = await publish(mirror.url, mirrorToken, await publishBodyFor('brand-new-tool', '0.1.0'));
    assert.equal(unverifiable.status, 409, unverifiable.body.toString());
    assert.match(errorDetail(unverifiable), /upstream `a` is offline and has nothing cached for `brand-new-tool`.*local_names/);
  });

  it('mirror sync --lockfile fills an empty cache ahead of time, for an offline site', async () => {
    const lockDir = makeTempDir('cratekeeper-lock-');
    const lockfile = join(lockDir, 'Cargo.lock');
    const cargo = sandboxFor('b');
    const app = cargo.createApp('to-sync', ['serde_json = "1"'], SERDE_JSON_APP);
    ok(await cargo.run(['generate-lockfile'], { cwd: app, env: cargoEnv() }), 'generate-lockfile via b');
    copyFileSync(join(app, 'Cargo.lock'), lockfile);

    const dataDir = makeTempDir('cratekeeper-synced-');
    const syncConfig = join(lockDir, 'sync.toml');
    writeFileSync(
      syncConfig,
      `[[upstreams]]\nname = "b"\nindex_url = "${nginx.url}/index/"\noffline = true\nauth = { netrc = "${netrcFile}", pattern = "basic" }\n`,
    );
    const sync = await runCli(['mirror', 'sync', '--lockfile', lockfile, '--config', syncConfig, '--data-dir', dataDir]);
    assert.equal(sync.code, 0, sync.stderr);
    const count = lockChecksums(lockfile).size;
    assert.match(sync.stdout, new RegExp(`cached ${count} of ${count} crates from b`));
    assert.match(sync.stderr, new RegExp(`syncing b: ${count}/${count} \\(100%\\)`));

    await nginx.stop();
    const offline = await startRegistry({ dataDir, args: ['--config', syncConfig] });
    try {
      const fresh = new CargoSandbox('ck');
      fresh.configure(`${offline.url}/mirrors/b/index/`, '[source.crates-io]\nreplace-with = "ck"\n');
      const copy = fresh.createApp('to-sync', ['serde_json = "1"'], SERDE_JSON_APP);
      copyFileSync(lockfile, join(copy, 'Cargo.lock'));
      ok(
        await fresh.run(['fetch', '--locked'], { cwd: copy, env: { CARGO_REGISTRIES_CK_TOKEN: offline.adminToken! } }),
        'cargo fetch from the synced, offline cache',
      );
    } finally {
      await offline.stop();
    }
  });
});
