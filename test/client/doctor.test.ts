// `cratekeeper doctor` against a real registry over http, each test a user's cargo setup broken in
// one way (or not at all): the finding names the problem and the exact fix, and the exit code is 1
// exactly when a finding is an error.

import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { httpRequest, publish } from '../support/http-client.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { writeCliWrapper } from './helpers.js';
import { assertNoErrors, DoctorSetup, findingLine, registryToml } from './doctor-setup.js';
import { freePort } from '../support/local-daemons.js';

async function createToken(server: RunningRegistry, body: Record<string, unknown>): Promise<{ id: number; token: string }> {
  const answer = await httpRequest(`${server.url}/api/v1/me/tokens`, {
    method: 'POST',
    headers: { authorization: server.adminToken!, 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
  });
  assert.equal(answer.status, 201, answer.body.toString());
  return (JSON.parse(answer.body.toString()) as { token: { id: number; token: string } }).token;
}

describe('cratekeeper doctor', () => {
  let server: RunningRegistry;
  let index: string;
  before(async () => {
    server = await startRegistry();
    index = `sparse+${server.url}/index/`;
    const published = await publish(server.url, server.adminToken!, await publishBodyFor('doctor-probe', '1.2.3'));
    assert.equal(published.status, 200, published.body.toString());
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  /** A setup that works: provider `cargo:token`, the token in credentials.toml. */
  function healthy(token = server.adminToken!): DoctorSetup {
    const setup = new DoctorSetup();
    setup.write('cargo-home/config.toml', registryToml('ck', index, 'credential-provider = "cargo:token"'));
    setup.write('cargo-home/credentials.toml', `[registries.ck]\ntoken = "${token}"\n`, 0o600);
    return setup;
  }

  it('passes a working setup, having read config.json, an index file and a download with the token', async () => {
    const run = await healthy().doctor();
    assertNoErrors(run);
    assert.match(findingLine(run, 'ok', 'cargo'), /cargo 1\.\d+\.\d+ supports authenticated registries/);
    assert.match(findingLine(run, 'ok', 'token-valid', 'ck'), /accepts the token/);
    assert.match(findingLine(run, 'ok', 'scopes', 'ck'), /every scope/);
    assert.match(findingLine(run, 'ok', 'index-file', 'ck'), /\/index\/do\/ct\/doctor-probe: 1 version/);
    assert.match(findingLine(run, 'ok', 'download', 'ck'), /doctor-probe 1\.2\.3 downloads, checksum matches/);
    assert.match(run.lines.at(-1)!, /all checks passed/);
  });

  it('is offered by cratekeeper-client too', async () => {
    const clientBin = join(import.meta.dirname, '../../../packages/client/dist/src/bin.js');
    const run = await healthy().doctor([], {}, clientBin);
    assertNoErrors(run);
    findingLine(run, 'ok', 'download', 'ck');
  });

  it('says cargo refuses the registry when no credential provider is configured, even with CARGO_REGISTRIES_CK_TOKEN', async () => {
    const setup = new DoctorSetup();
    setup.write('cargo-home/config.toml', registryToml('ck', index));
    const run = await setup.doctor([], { CARGO_REGISTRIES_CK_TOKEN: server.adminToken! });
    assert.equal(run.code, 1);
    const line = findingLine(run, 'error', 'credential-provider', 'ck');
    assert.match(line, /authenticated registries require a credential-provider to be configured/);
    assert.match(line, /CARGO_REGISTRIES_CK_TOKEN is not enough/);
    assert.ok(
      line.includes(`fix: put \`credential-provider = "cargo:token"\` under [registries.ck] in ${setup.cargoHome}/config.toml`),
      line,
    );
  });

  it('accepts registry.global-credential-providers from the environment instead', async () => {
    const setup = new DoctorSetup();
    setup.write('cargo-home/config.toml', registryToml('ck', index));
    const run = await setup.doctor([], {
      CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS: 'cargo:token',
      CARGO_REGISTRIES_CK_TOKEN: server.adminToken!,
    });
    assertNoErrors(run);
    assert.match(findingLine(run, 'ok', 'credential-provider', 'ck'), /CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS/);
  });

  it('asks for cargo login when the provider has no token', async () => {
    const setup = new DoctorSetup();
    setup.write('cargo-home/config.toml', registryToml('ck', index, 'credential-provider = "cargo:token"'));
    const run = await setup.doctor();
    assert.equal(run.code, 1);
    assert.match(findingLine(run, 'error', 'token', 'ck'), /no token stored .* fix: `cargo login --registry ck`/);
  });

  it('names a credential provider that is not on PATH', async () => {
    const setup = new DoctorSetup();
    setup.write('cargo-home/config.toml', registryToml('ck', index, 'credential-provider = ["cratekeeper-not-installed", "credential"]'));
    const run = await setup.doctor();
    assert.equal(run.code, 1);
    assert.match(findingLine(run, 'error', 'credential-provider', 'ck'), /`cratekeeper-not-installed` .* is not on PATH/);
  });

  it('gets the token from an external provider, as cargo would (cratekeeper credential with a .netrc)', async () => {
    const setup = new DoctorSetup();
    const wrapper = writeCliWrapper(setup.root);
    const netrc = setup.write(
      'home/.netrc',
      `machine 127.0.0.1:${new URL(server.url).port} login cargo password ${server.adminToken}\n`,
      0o600,
    );
    setup.write(
      'cargo-home/config.toml',
      registryToml('ck', index, `credential-provider = ["${wrapper}", "credential", "--netrc", "${netrc}"]`),
    );
    const run = await setup.doctor();
    assertNoErrors(run);
    assert.match(findingLine(run, 'ok', 'token', 'ck'), /from the credential provider/);
    findingLine(run, 'ok', 'download', 'ck');
  });

  it("reports the server's reason for a rejected (revoked) token", async () => {
    const revoked = await createToken(server, { name: 'doctor-revoked' });
    const gone = await httpRequest(`${server.url}/api/v1/me/tokens/${revoked.id}`, {
      method: 'DELETE',
      headers: { authorization: server.adminToken! },
    });
    assert.equal(gone.status, 200);
    const run = await healthy(revoked.token).doctor();
    assert.equal(run.code, 1);
    assert.match(
      findingLine(run, 'error', 'token-valid', 'ck'),
      /rejected the token \(401\): token rejected: the token is unknown or revoked.* fix: `cargo login --registry ck`/,
    );
  });

  it('warns that a read-only token cannot publish, quoting its scopes', async () => {
    const readOnly = await createToken(server, { name: 'doctor-read', scopes: ['read'] });
    const run = await healthy(readOnly.token).doctor();
    assert.equal(run.code, 0, run.stdout);
    assert.match(
      findingLine(run, 'warning', 'scopes', 'ck'),
      /can read but not publish: .*publish-new.*\(it has: read\).* fix: .*--scopes read,publish-new,publish-update/,
    );
    findingLine(run, 'ok', 'download', 'ck');
  });

  it('warns that a token expires within a week, and says when', async () => {
    const expiresAt = new Date(Date.now() + 2 * 86_400_000).toISOString();
    const soon = await createToken(server, { name: 'doctor-soon', expires_at: expiresAt });
    const run = await healthy(soon.token).doctor();
    assert.equal(run.code, 0, run.stdout);
    assert.ok(findingLine(run, 'warning', 'expiry', 'ck').includes(`expires on ${expiresAt}`));
    const lasting = await healthy(server.adminToken!).doctor();
    assert.match(findingLine(lasting, 'ok', 'expiry', 'ck'), /never expires/);
  });

  it('explains an index URL without sparse+ (a git index) and one without its trailing slash', async () => {
    const git = new DoctorSetup();
    git.write('cargo-home/config.toml', registryToml('ck', `${server.url}/index/`, 'credential-provider = "cargo:token"'));
    const gitRun = await git.doctor();
    assert.equal(gitRun.code, 1);
    assert.ok(findingLine(gitRun, 'error', 'index', 'ck').includes(`is a git index, because it does not start with \`sparse+\``));
    assert.ok(findingLine(gitRun, 'error', 'index', 'ck').includes(`index = "${index}"`));

    const slash = new DoctorSetup();
    slash.write('cargo-home/config.toml', registryToml('ck', index.replace(/\/$/, ''), 'credential-provider = "cargo:token"'));
    const slashRun = await slash.doctor();
    assert.equal(slashRun.code, 1);
    const line = findingLine(slashRun, 'error', 'index', 'ck');
    assert.match(line, /must end in `\/`/);
    assert.ok(line.includes(`index = "${index}"`), line);
  });

  it('reports a missing [registries.X] entry for --registry', async () => {
    const run = await healthy().doctor(['--registry', 'other']);
    assert.equal(run.code, 1);
    assert.match(
      findingLine(run, 'error', 'index', 'other'),
      /no \[registries\.other\] entry .* fix: put `index = "sparse\+https:\/\/registry\.example\.com\/index\/"` under \[registries\.other\]/,
    );
  });

  it('uses the project .cargo/config.toml before CARGO_HOME (nearer wins)', async () => {
    const setup = healthy();
    setup.write('cargo-home/config.toml', registryToml('ck', 'https://wrong.example/index.git', 'credential-provider = "cargo:token"'));
    const nearer = setup.write('work/.cargo/config.toml', registryToml('ck', index));
    const run = await setup.doctor();
    assertNoErrors(run);
    assert.ok(findingLine(run, 'ok', 'index', 'ck').includes(`(${nearer})`));
  });

  it('refuses a cargo older than 1.74', async () => {
    const setup = healthy();
    const bin = join(setup.root, 'old-bin');
    setup.write('old-bin/cargo', '#!/bin/sh\necho "cargo 1.70.0 (ec8a8a0ca 2023-04-25)"\n');
    chmodSync(join(bin, 'cargo'), 0o755);
    const run = await setup.doctor([], { PATH: `${bin}:${process.env.PATH}` });
    assert.equal(run.code, 1);
    assert.match(findingLine(run, 'error', 'cargo'), /cargo 1\.70\.0 is too old: .* 1\.74 or later -> fix: `rustup update stable`/);
  });

  it('names a proxy that is down, and says when no_proxy sends the registry direct', async () => {
    const port = await freePort(); // nothing listens there: a proxy that is down
    const down = await healthy().doctor([], { http_proxy: `http://127.0.0.1:${port}` });
    assert.equal(down.code, 1);
    assert.match(
      findingLine(down, 'ok', 'proxy', 'ck'),
      new RegExp(`go through the proxy 127\\.0\\.0\\.1:${port} \\(environment variable http_proxy\\)`),
    );
    assert.match(findingLine(down, 'error', 'proxy', 'ck'), /did not get through .* fix: .*export NO_PROXY=127\.0\.0\.1/);

    const excluded = await healthy().doctor([], { http_proxy: `http://127.0.0.1:${port}`, NO_PROXY: 'localhost,127.0.0.1' });
    assertNoErrors(excluded);
    assert.match(findingLine(excluded, 'ok', 'proxy', 'ck'), /goes direct \(NO_PROXY entry `127\.0\.0\.1`\)/);
  });

  it('warns that cargo ignores HTTP_PROXY for an http registry', async () => {
    const run = await healthy().doctor([], { HTTP_PROXY: 'http://proxy.example:3128' });
    assert.match(findingLine(run, 'warning', 'proxy', 'ck'), /ignores the uppercase form/);
  });

  it('explains source replacement, and catches one that names nothing or a non-mirror', async () => {
    const setup = healthy();
    setup.write(
      'cargo-home/config.toml',
      registryToml('ck', index, 'credential-provider = "cargo:token"') + '\n[source.crates-io]\nreplace-with = "ck"\n',
    );
    const notMirror = await setup.doctor();
    assert.match(findingLine(notMirror, 'warning', 'source-replacement', 'ck'), /crates\.io is replaced by `ck`.*not a mirror index/);

    setup.write(
      'cargo-home/config.toml',
      registryToml('ck', index, 'credential-provider = "cargo:token"') + '\n[source.crates-io]\nreplace-with = "nothere"\n',
    );
    const missing = await setup.doctor();
    assert.equal(missing.code, 1);
    assert.match(findingLine(missing, 'error', 'source-replacement', 'nothere'), /no \[registries\.nothere\] or \[source\.nothere\]/);
  });
});
