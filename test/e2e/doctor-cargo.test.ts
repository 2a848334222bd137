// doctor and the real cargo agree: for a setup broken in a way only cargo's own rules decide (no
// credential provider for an authenticated registry, an index URL without its trailing slash,
// which config file wins), cargo fails where doctor reports an error, and after applying doctor's
// fix, both succeed.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { publishBodyFor } from '../support/crate-fixture.js';
import { publish } from '../support/http-client.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { assertNoErrors, DoctorSetup, findingLine, registryToml } from '../client/doctor-setup.js';

function withApp(setup: DoctorSetup): DoctorSetup {
  setup.write(
    'work/app/Cargo.toml',
    '[package]\nname = "app"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\ndoctor-dep = { version = "0.4", registry = "ck" }\n',
  );
  setup.write('work/app/src/main.rs', 'fn main() {}\n');
  return setup;
}

function cargoFetch(setup: DoctorSetup) {
  return runProgram('cargo', ['fetch'], {
    cwd: setup.project,
    env: setup.env({ CARGO_NET_RETRY: '0', CARGO_TERM_COLOR: 'never', NO_PROXY: '127.0.0.1,localhost' }),
  });
}

describe('doctor agrees with cargo', () => {
  let server: RunningRegistry;
  let index: string;
  before(async () => {
    server = await startRegistry();
    index = `sparse+${server.url}/index/`;
    const published = await publish(server.url, server.adminToken!, await publishBodyFor('doctor-dep', '0.4.1'));
    assert.equal(published.status, 200, published.body.toString());
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('no credential provider: cargo refuses, doctor says so, and its fix makes both work', async () => {
    const setup = withApp(new DoctorSetup());
    setup.write('cargo-home/config.toml', registryToml('ck', index));
    setup.write('cargo-home/credentials.toml', `[registries.ck]\ntoken = "${server.adminToken}"\n`, 0o600);
    const refused = await cargoFetch(setup);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /authenticated registries require a credential-provider to be configured/);
    const diagnosed = await setup.doctor();
    assert.equal(diagnosed.code, 1);
    assert.match(
      findingLine(diagnosed, 'error', 'credential-provider', 'ck'),
      /fix: put `credential-provider = "cargo:token"` under \[registries\.ck\]/,
    );

    setup.write('cargo-home/config.toml', registryToml('ck', index, 'credential-provider = "cargo:token"'));
    const fetched = await cargoFetch(setup);
    assert.equal(fetched.code, 0, fetched.stderr);
    const healthy = await setup.doctor();
    assertNoErrors(healthy);
    // The project's Cargo.lock now names the crate: doctor downloads that one.
    assert.match(findingLine(healthy, 'ok', 'download', 'ck'), /doctor-dep 0\.4\.1 downloads/);
  });

  it('an index URL without its trailing slash: cargo refuses, doctor gives the URL that works', async () => {
    const setup = withApp(new DoctorSetup());
    setup.write('cargo-home/config.toml', registryToml('ck', index.replace(/\/$/, ''), 'credential-provider = "cargo:token"'));
    setup.write('cargo-home/credentials.toml', `[registries.ck]\ntoken = "${server.adminToken}"\n`, 0o600);
    const refused = await cargoFetch(setup);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /must end in a slash/);
    const line = findingLine(await setup.doctor(), 'error', 'index', 'ck');
    const fixed = /index = "([^"]+)"` under/.exec(line)?.[1];
    assert.equal(fixed, index);

    setup.write('cargo-home/config.toml', registryToml('ck', fixed, 'credential-provider = "cargo:token"'));
    assert.equal((await cargoFetch(setup)).code, 0);
  });

  it('the legacy .cargo/config beats .cargo/config.toml in one folder, and a nearer folder beats CARGO_HOME, for both', async () => {
    const setup = withApp(new DoctorSetup());
    setup.write('cargo-home/config.toml', registryToml('ck', 'sparse+http://127.0.0.1:9/broken/', 'credential-provider = "cargo:token"'));
    setup.write('cargo-home/credentials.toml', `[registries.ck]\ntoken = "${server.adminToken}"\n`, 0o600);
    const legacy = setup.write('work/.cargo/config', registryToml('ck', index));
    setup.write('work/.cargo/config.toml', registryToml('ck', 'sparse+http://127.0.0.1:9/also-broken/'));
    const fetched = await cargoFetch(setup);
    assert.equal(fetched.code, 0, fetched.stderr);
    const run = await setup.doctor();
    assertNoErrors(run);
    assert.ok(findingLine(run, 'ok', 'index', 'ck').includes(`(${legacy})`));
  });
});
