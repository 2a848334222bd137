// RustSec advisories with the real cargo against a mirrored upstream of real Debian crates:
// cfg-if 0.1.10 and 1.0.0 (two Debian packages), and an advisory fixture in the real format saying
// 1.0.0 is affected and the 0.1 line is patched. With `advisories = "deny"` for the upstream, cargo
// resolves `cfg-if = ">= 0.1"` to 0.1.10; a Cargo.lock pinning 1.0.0 fails (its download is refused
// with the advisory id; cargo's own message, see below, does not name it yet); a
// local crate named cfg-if is untouched by the upstream's advisories. The database is carried in
// with `cratekeeper advisories sync` (a folder, a malformed file reported and skipped).

import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { advisoryFiles, advisoryText, writeAdvisoryFolder } from '../support/advisory-fixtures.js';
import { ensureDebianPackages } from '../support/apt.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { readDebianCrates } from '../support/debian-crates.js';
import { eventually } from '../support/eventually.js';
import { httpRequest, publish } from '../support/http-client.js';
import { publishAll } from '../support/mirror-upstreams.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';

const ADVISORY_ID = 'RUSTSEC-2026-0777';
const TITLE = 'cfg-if 1.0.0 mis-evaluates nested cfg expressions (test fixture)';

const lockedVersion = (lockfile: string) => /name = "cfg-if"\nversion = "([^"]+)"/.exec(readFileSync(lockfile, 'utf8'))?.[1];

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

describe('RustSec advisories with the real cargo', () => {
  let upstream: RunningRegistry;
  let mirror: RunningRegistry;
  let cli: string[];
  const cargoEnv = () => ({ CARGO_REGISTRIES_CK_TOKEN: mirror.adminToken! });
  const upstreamSandbox = () => {
    const cargo = new CargoSandbox('ck');
    cargo.configure(`${mirror.url}/mirrors/crates-io/index/`, '[source.crates-io]\nreplace-with = "ck"\n');
    return cargo;
  };
  /** The versions cargo may pick for a new resolution: those the mirror serves unyanked. */
  const mirroredVersions = async () => {
    const res = await httpRequest(`${mirror.url}/mirrors/crates-io/index/cf/g-/cfg-if`, { headers: { authorization: mirror.adminToken! } });
    assert.equal(res.status, 200, res.body.toString());
    return res.body
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { vers: string; yanked: boolean })
      .filter((line) => !line.yanked)
      .map((line) => line.vers);
  };

  before(async () => {
    ensureDebianPackages(['librust-cfg-if-dev', 'librust-cfg-if-0.1-dev']);
    const cfgIf = readDebianCrates().filter((c) => c.name === 'cfg-if');
    assert.deepEqual(cfgIf.map((c) => c.version).sort(), ['0.1.10', '1.0.0']);
    upstream = await startRegistry();
    await publishAll(upstream.url, upstream.adminToken!, cfgIf);

    const dir = makeTempDir('cratekeeper-advisories-e2e-');
    const netrc = join(dir, 'netrc');
    writeFileSync(netrc, `machine 127.0.0.1:${new URL(upstream.url).port} login cratekeeper password ${upstream.adminToken}\n`, {
      mode: 0o600,
    });
    const config = join(dir, 'cratekeeper.toml');
    writeFileSync(
      config,
      [
        '[cache]',
        'poll_interval_ms = 200',
        '',
        '[[upstreams]]',
        'name = "crates-io"',
        `index_url = "sparse+${upstream.url}/index/"`,
        'index_ttl_seconds = 0',
        'local_names = ["cfg-if"]',
        `auth = { netrc = "${netrc}" }`,
        '',
      ].join('\n'),
    );
    mirror = await startRegistry({ args: ['--config', config] });
    cli = ['--config', config, '--data-dir', mirror.dataDir];
  });

  after(async () => {
    await mirror?.stop();
    await upstream?.stop();
  });

  it('syncs a folder, reporting a malformed file by its path', async () => {
    const folder = writeAdvisoryFolder(
      makeTempDir('cratekeeper-advisory-db-'),
      advisoryFiles(
        [{ id: ADVISORY_ID, package: 'cfg-if', title: TITLE, patched: ['^0.1.10'], url: 'https://example.com/cfg-if/advisory' }],
        {
          'crates/serde/RUSTSEC-2026-0778.md': advisoryText({ id: 'RUSTSEC-2026-0778', package: 'serde' }).replace('```\n\n#', '\n#'),
        },
      ),
    );
    const synced = await runCli(['advisories', 'sync', '--from', folder, '--for', 'crates-io', ...cli]);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /imported 1 advisories for crates-io .*\(0 withdrawn, 1 skipped\)/);
    assert.match(synced.stdout, /skipped crates\/serde\/RUSTSEC-2026-0778\.md: the ```toml front matter is never closed/);
    const listed = await runCli(['advisories', 'list', 'cfg-if', '--for', 'crates-io', ...cli]);
    assert.match(listed.stdout, new RegExp(`${ADVISORY_ID} 2026-01-15 ${TITLE.replace(/[()]/g, '\\$&')}`));
    const unknown = await runCli(['advisories', 'sync', '--from', folder, '--for', 'nowhere', ...cli]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /--for: no upstream named nowhere; use `local` or one of: crates-io/);
  });

  it('with deny, cargo resolves around the affected version, a lockfile pinning it fails (its download refused with the id), and a local cfg-if is untouched', async () => {
    // Before the policy: cargo takes the newest, 1.0.0; keep that lockfile.
    const before = upstreamSandbox();
    const pinned = before.createApp('pinned', ['cfg-if = ">= 0.1"'], 'fn main() {}\n');
    ok(await before.run(['generate-lockfile'], { cwd: pinned, env: cargoEnv() }), 'generate-lockfile before the policy');
    assert.equal(lockedVersion(join(pinned, 'Cargo.lock')), '1.0.0');
    const pinnedLock = join(makeTempDir('cratekeeper-lock-'), 'Cargo.lock');
    copyFileSync(join(pinned, 'Cargo.lock'), pinnedLock);

    // A local crate of the same name, published here.
    const local = await publish(mirror.url, mirror.adminToken!, await publishBodyFor('cfg-if', '1.0.0'));
    assert.equal(local.status, 200, local.body.toString());

    const set = await runCli(['policy', 'set', 'crates-io', 'advisories', 'deny', ...cli]);
    assert.equal(set.code, 0, set.stderr);
    assert.equal((await runCli(['policy', 'set', 'local', 'advisories', 'deny', ...cli])).code, 0);
    await eventually(async () => assert.deepEqual(await mirroredVersions(), ['0.1.10']));

    const fresh = upstreamSandbox();
    const app = fresh.createApp('resolves', ['cfg-if = ">= 0.1"'], 'fn main() {}\n');
    ok(await fresh.run(['generate-lockfile'], { cwd: app, env: cargoEnv() }), 'generate-lockfile under deny');
    assert.equal(lockedVersion(join(app, 'Cargo.lock')), '0.1.10');
    ok(await fresh.run(['build', '-q'], { cwd: app, env: cargoEnv() }), 'build under deny');

    const locked = upstreamSandbox();
    const lockedApp = locked.createApp('pinned', ['cfg-if = ">= 0.1"'], 'fn main() {}\n');
    copyFileSync(pinnedLock, join(lockedApp, 'Cargo.lock'));
    const refused = await locked.run(['fetch', '--locked'], { cwd: lockedApp, env: cargoEnv() });
    assert.notEqual(refused.code, 0, refused.stdout);
    // The engine serves the affected version marked yanked: no new resolution picks it, but a
    // lockfile that pins it goes on to the download, whose refusal cargo shows with the advisory.
    const advisoryInCargo = new RegExp(`cfg-if@1\\.0\\.0 is affected by ${ADVISORY_ID} \\(${TITLE.replace(/[()]/g, '\\$&')}\\)`);
    assert.match(refused.stderr, advisoryInCargo);
    const download = await httpRequest(`${mirror.url}/mirrors/crates-io/crates/cfg-if/1.0.0/download`, {
      headers: { authorization: mirror.adminToken! },
    });
    assert.equal(download.status, 403, download.body.toString());
    assert.match(download.body.toString(), advisoryInCargo);

    // The upstream's advisory does not touch the local crate of the same name, under the same policy.
    const mine = new CargoSandbox('ck');
    mine.configure(`${mirror.url}/index/`);
    const localApp = mine.createApp('uses-local', ['cfg-if = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    ok(await mine.run(['fetch'], { cwd: localApp, env: cargoEnv() }), 'fetch the local cfg-if');
    assert.equal(lockedVersion(join(localApp, 'Cargo.lock')), '1.0.0');
  });
});
