// doctor reads cargo's configuration the way cargo does: which files (the project chain, the
// legacy name, $CARGO_HOME once), which value wins (environment, credentials.toml, nearer files),
// how lists merge, which providers cargo asks and in what order, and where relative paths point.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { CargoConfig } from '../src/doctor/cargo-config.js';
import { CargoConfigError, findConfigFiles } from '../src/doctor/cargo-config-files.js';
import { tryParseCargoVersion } from '../src/doctor/cargo-version.js';
import { planProviders } from '../src/doctor/credential-providers.js';
import { noProxyMatch } from '../src/doctor/proxy-settings.js';

function tree(files: Record<string, string>): string {
  const root = makeTempDir('doctor-config-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  mkdirSync(join(root, 'work/app'), { recursive: true });
  return root;
}

const load = (root: string, env: Record<string, string> = {}) =>
  new CargoConfig({ cwd: join(root, 'work/app'), env: { CARGO_HOME: join(root, 'home/.cargo'), ...env } });

describe('cargo config files', () => {
  it('walks from the project up, nearest first, then $CARGO_HOME, preferring the legacy name', () => {
    const root = tree({
      'work/app/.cargo/config.toml': '',
      'work/.cargo/config': '',
      'work/.cargo/config.toml': '',
      'home/.cargo/config.toml': '',
    });
    assert.deepEqual(findConfigFiles(join(root, 'work/app'), join(root, 'home/.cargo')), [
      join(root, 'work/app/.cargo/config.toml'),
      join(root, 'work/.cargo/config'),
      join(root, 'home/.cargo/config.toml'),
    ]);
  });

  it('reads $CARGO_HOME only once when the walk passes through it', () => {
    const root = tree({ 'work/.cargo/config.toml': '' });
    assert.deepEqual(findConfigFiles(join(root, 'work/app'), join(root, 'work/.cargo')), [join(root, 'work/.cargo/config.toml')]);
  });

  it('lets the environment beat credentials.toml, which beats the files, nearer files beating farther ones', () => {
    const root = tree({
      'work/.cargo/config.toml': '[registries.a]\nindex = "sparse+https://near/"\n[http]\nproxy = "near:1"\n',
      'home/.cargo/config.toml': '[registries.a]\nindex = "sparse+https://far/"\ntoken = "from-config"\n[http]\nproxy = "far:1"\n',
      'home/.cargo/credentials.toml': '[registries.a]\ntoken = "from-credentials"\n',
    });
    const config = load(root, { CARGO_HTTP_PROXY: 'env:1' });
    assert.equal(config.string(['registries', 'a', 'index'])?.value, 'sparse+https://near/');
    assert.equal(config.string(['registries', 'a', 'token'])?.value, 'from-credentials');
    assert.equal(config.string(['http', 'proxy'])?.source, 'environment variable CARGO_HTTP_PROXY');
    assert.equal(load(root, { CARGO_REGISTRIES_A_TOKEN: 'from-env' }).string(['registries', 'a', 'token'])?.value, 'from-env');
  });

  it("reads the old credentials layout's top-level token as registry.token", () => {
    const root = tree({ 'home/.cargo/credentials': 'token = "old"\n' });
    assert.equal(load(root).string(['registry', 'token'])?.value, 'old');
  });

  it('names registries from the files and from CARGO_REGISTRIES_<NAME>_INDEX, without duplicates', () => {
    const root = tree({ 'home/.cargo/config.toml': '[registries.my-reg]\nindex = "sparse+https://a/"\n' });
    const config = load(root, { CARGO_REGISTRIES_MY_REG_INDEX: 'sparse+https://b/', CARGO_REGISTRIES_OTHER_INDEX: 'sparse+https://c/' });
    assert.deepEqual(config.registryNames(), ['my-reg', 'other']);
    assert.equal(config.string(['registries', 'my-reg', 'index'])?.value, 'sparse+https://b/');
  });

  it('names the file and line of broken TOML', () => {
    const root = tree({ 'home/.cargo/config.toml': '[registries.a]\nindex = \n' });
    assert.throws(
      () => load(root),
      (e: unknown) => e instanceof CargoConfigError && e.message.includes('config.toml:2'),
    );
  });
});

describe('credential providers as cargo asks them', () => {
  it('merges global-credential-providers (farther first, the environment last) and asks the last first', () => {
    const root = tree({
      'work/.cargo/config.toml': '[registry]\nglobal-credential-providers = ["near"]\n',
      'home/.cargo/config.toml': '[registry]\nglobal-credential-providers = ["cargo:token"]\n',
    });
    const plan = planProviders(load(root, { CARGO_REGISTRY_GLOBAL_CREDENTIAL_PROVIDERS: 'cargo:libsecret' }), 'a');
    assert.deepEqual(
      plan.providers.map((p) => p.argv[0]),
      ['cargo:libsecret', 'near', 'cargo:token'],
    );
    assert.equal(plan.globalDefined, true);
  });

  it("uses the registry's own provider alone, resolving aliases and paths relative to the folder holding .cargo", () => {
    const root = tree({
      'work/.cargo/config.toml': '[credential-alias]\nmine = ["./bin/provider", "credential", "--login", "me"]\n',
      'home/.cargo/config.toml':
        '[registries.a]\nindex = "sparse+https://a/"\ncredential-provider = "mine"\n[registry]\nglobal-credential-providers = ["cargo:token"]\n',
    });
    const plan = planProviders(load(root), 'a');
    assert.equal(plan.registrySpecific, true);
    assert.deepEqual(
      plan.providers.map((p) => p.argv),
      [[join(root, 'work/bin/provider'), 'credential', '--login', 'me']],
    );
  });

  it('falls back to cargo:token alone, marked as not configured (cargo refuses auth-required registries then)', () => {
    const plan = planProviders(load(tree({})), 'a');
    assert.deepEqual(plan, {
      providers: [{ argv: ['cargo:token'], source: "cargo's default" }],
      registrySpecific: false,
      globalDefined: false,
    });
  });
});

describe('small rules', () => {
  it("matches no_proxy entries as curl does: exact names, domain suffixes, '*'", () => {
    assert.equal(noProxyMatch('localhost,.example.com', 'reg.example.com'), '.example.com');
    assert.equal(noProxyMatch('example.com', 'reg.example.com'), 'example.com');
    assert.equal(noProxyMatch('example.com', 'badexample.com'), undefined);
    assert.equal(noProxyMatch('*', 'anything'), '*');
    assert.equal(noProxyMatch('127.0.0.1:8080', '127.0.0.1'), '127.0.0.1:8080');
  });

  it("parses cargo's version line", () => {
    assert.deepEqual(tryParseCargoVersion('cargo 1.95.0 (f2d3ce0bd 2026-03-21)\n'), {
      major: 1,
      minor: 95,
      patch: 0,
      text: 'cargo 1.95.0',
    });
    assert.equal(tryParseCargoVersion('cargo-nightly 1.96.0'), undefined);
  });
});
