// `cratekeeper-client policy check` as a CI job runs it: the real client program against the real
// `cratekeeper serve`, on a Cargo.lock written under source replacement (it names the mirrored
// registry's own index, not this registry). What the CI gate rests on is the exit status of the
// process: non-zero when a package is refused, 0 when clean, 2 when the command itself is wrong.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { FakeDemoUpstream } from '../support/fake-demo-upstream.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';

const CLIENT_BIN = fileURLToPath(new URL('../../../node_modules/@cratekeeper/client/dist/src/bin.js', import.meta.url));
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('policy check command (real processes)', () => {
  const upstream = new FakeDemoUpstream();
  let server: RunningRegistry;
  const dir = makeTempDir('cratekeeper-policy-command-');
  const lockfile = (name: string, version: string, source: string) => {
    const file = join(dir, `${name}-${version}.lock`);
    writeFileSync(file, `version = 4\n\n[[package]]\nname = "${name}"\nversion = "${version}"\nsource = "${source}"\nchecksum = "00"\n`);
    return file;
  };
  const check = (file: string, ...extra: string[]) =>
    runProgram(process.execPath, [CLIENT_BIN, 'policy', 'check', file, '--registry', server.url, ...extra], {
      env: { PATH: process.env.PATH, HOME: dir, CRATEKEEPER_TOKEN: server.adminToken },
    });

  before(async () => {
    await upstream.start();
    // Real time: the server's clock is the machine's. 1.1.0 stays in quarantine for days.
    upstream.lines.set('1.0.0', { pubtime: iso(Date.now() - 30 * DAY) });
    upstream.lines.set('1.1.0', { pubtime: iso(Date.now() - DAY / 24) });
    const config = join(dir, 'cratekeeper.toml');
    writeFileSync(config, `[[upstreams]]\nname = "up"\nindex_url = "${upstream.url}/index/"\nmin_release_age = "3d"\n`);
    server = await startRegistry({ args: ['--config', config] });
  });
  after(async () => {
    await server.stop();
    await upstream.stop();
  });

  it('exits 1 when a package of a lockfile written under source replacement is refused', async () => {
    const result = await check(lockfile('demo', '1.1.0', `sparse+${upstream.url}/index/`));
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^demo 1\.1\.0 \(up\): DENIED \(quarantine\): demo@1\.1\.0 is in quarantine until /m);
    assert.match(result.stdout, /1 of 1 package\(s\) from this registry are denied by its policy\n$/);
  });

  it('exits 0 when nothing is refused', async () => {
    const result = await check(lockfile('demo', '1.0.0', `sparse+${upstream.url}/index/`));
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'demo 1.0.0 (up): ok\n1 package(s) from this registry, none denied\n');
  });

  it('checks a source mapped with --replace, and exits 2 on a --replace it cannot read', async () => {
    const elsewhere = lockfile('demo', '1.1.0', 'sparse+https://git.example.com/index/');
    const unmapped = await check(elsewhere);
    assert.equal(unmapped.code, 0, unmapped.stderr);
    assert.match(unmapped.stdout, /1 package\(s\) from other sources were not checked: sparse\+https:\/\/git\.example\.com\/index\//);
    const mapped = await check(elsewhere, '--replace', `sparse+https://git.example.com/index/=sparse+${server.url}/mirrors/up/index/`);
    assert.equal(mapped.code, 1, mapped.stderr);
    assert.match(mapped.stdout, /^demo 1\.1\.0 \(up\): DENIED \(quarantine\)/m);
    const bad = await check(elsewhere, '--replace', 'crates-io=company');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--replace crates-io=company: expected <source>=<index>/);
  });
});
