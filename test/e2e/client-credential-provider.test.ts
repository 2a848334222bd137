// The real cargo, with `cratekeeper credential` as its only credential provider, against the real
// auth-required `cratekeeper serve`: `cargo login` stores the token in ~/.netrc (mode 0600), publish
// and build use it, `cargo logout` removes it and cargo is locked out again. A second test gives a host
// a token command (short-lived tokens) instead of a .netrc entry. A third holds the token only in the
// .netrc `default` entry: cargo gets it only once auth.toml opts the registry's host in.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { writeCliWrapper } from '../client/helpers.js';

const MAIN = 'fn main() { println!("{}", alpha::name()); }\n';

function writeCargoConfig(sandbox: CargoSandbox, indexUrl: string, provider: string[]): void {
  writeFileSync(
    join(sandbox.cargoHome, 'config.toml'),
    `[registries.ck]\nindex = "sparse+${indexUrl}"\ncredential-provider = ${JSON.stringify(provider)}\n\n[net]\nretry = 0\n\n[term]\ncolor = "never"\n`,
  );
}

void describe('cratekeeper credential as cargo credential provider', () => {
  let registry: RunningRegistry;
  before(async () => {
    registry = await startRegistry();
    assert.ok(registry.adminToken, 'the fresh registry printed its first token');
  });
  after(async () => {
    await registry.stop();
  });

  void test('cargo logs in (token into ~/.netrc), publishes, builds, logs out', async () => {
    const sandbox = new CargoSandbox();
    const cli = writeCliWrapper(sandbox.root);
    writeCargoConfig(sandbox, `${registry.url}/index/`, [cli, 'credential']);
    // Another tool's entry and a comment, which login and logout must keep.
    const netrc = join(sandbox.home, '.netrc');
    writeFileSync(netrc, '# my machines\nmachine git.example.com\n\tlogin me\n\tpassword "s3cret word"\n', { mode: 0o600 });

    const login = await sandbox.run(['login', '--registry', 'ck'], { input: `${registry.adminToken}\n` });
    assert.equal(login.code, 0, login.stderr);
    const afterLogin = readFileSync(netrc, 'utf8');
    const host = new URL(registry.url).hostname;
    assert.match(afterLogin, new RegExp(`^machine ${host.replace(/\./g, '\\.')} login cargo password ${registry.adminToken}$`, 'm'));
    assert.ok(afterLogin.startsWith('# my machines\nmachine git.example.com\n\tlogin me\n\tpassword "s3cret word"\n'), afterLogin);
    assert.equal(statSync(netrc).mode & 0o777, 0o600);
    assert.equal(existsSync(join(sandbox.cargoHome, 'credentials.toml')), false, 'cargo:token stored nothing');

    const lib = sandbox.createPackage({ name: 'alpha', version: '0.1.0' });
    const publish = await sandbox.run(['publish', '--registry', 'ck', '--no-verify', '--allow-dirty'], { cwd: lib });
    assert.equal(publish.code, 0, publish.stderr);
    assert.match(publish.stderr, /Published alpha v0\.1\.0/);

    const app = sandbox.createApp('app', ['alpha = { version = "0.1", registry = "ck" }'], MAIN);
    const run = await sandbox.run(['run', '-q'], { cwd: app });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'alpha');

    const logout = await sandbox.run(['logout', '--registry', 'ck']);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(readFileSync(netrc, 'utf8'), '# my machines\nmachine git.example.com\n\tlogin me\n\tpassword "s3cret word"\n');

    // Without the entry the provider answers not-found and cargo has no token for the index.
    const app2 = sandbox.createApp('app2', ['alpha = { version = "0.1", registry = "ck" }'], MAIN);
    const locked = await sandbox.run(['build'], { cwd: app2 });
    assert.notEqual(locked.code, 0);
    assert.match(locked.stderr, /no token found for `ck`/);
  });

  void test('the .netrc default entry reaches cargo only for a host that opts in', async () => {
    const sandbox = new CargoSandbox();
    const cli = writeCliWrapper(sandbox.root);
    writeFileSync(join(sandbox.home, '.netrc'), `default login cargo password ${registry.adminToken}\n`, { mode: 0o600 });
    writeCargoConfig(sandbox, `${registry.url}/index/`, [cli, 'credential']);
    const lib = sandbox.createPackage({ name: 'gamma', version: '0.1.0' });

    // No auth.toml: the provider answers not-found, so cargo has no token (before, it got the default password).
    const refused = await sandbox.run(['publish', '--registry', 'ck', '--no-verify', '--allow-dirty'], { cwd: lib });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /no token found for `ck`/);

    // auth.toml names the host and opts in: cargo gets the default entry's token.
    const { hostname: host } = new URL(registry.url);
    const authDir = join(sandbox.home, '.config', 'cratekeeper');
    mkdirSync(authDir, { recursive: true });
    writeFileSync(join(authDir, 'auth.toml'), `[hosts."${host}"]\nuse_netrc_default = true\n`);
    const published = await sandbox.run(['publish', '--registry', 'ck', '--no-verify', '--allow-dirty'], { cwd: lib });
    assert.equal(published.code, 0, published.stderr);
    assert.match(published.stderr, /Published gamma v0\.1\.0/);
  });

  void test('a host with a token command: cargo gets the token it prints', async () => {
    const sandbox = new CargoSandbox();
    const cli = writeCliWrapper(sandbox.root);
    const authFile = join(sandbox.root, 'auth.toml');
    const calls = join(sandbox.root, 'token-calls.log');
    // A stand-in for `aws codeartifact get-authorization-token`: prints a token and its expiry.
    const script = join(sandbox.root, 'issue-token.mjs');
    writeFileSync(
      script,
      `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(calls)}, process.env.CRATEKEEPER_HOST + '\\n');\n` +
        `console.log(JSON.stringify({ token: process.env.ISSUED_TOKEN, expiration: new Date(Date.now() + 3600e3).toISOString() }));\n`,
    );
    const { hostname: host } = new URL(registry.url);
    writeFileSync(
      authFile,
      `[hosts."${host}"]\nauth = "bearer"\ntoken_command = [${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}]\n`,
    );
    writeCargoConfig(sandbox, `${registry.url}/index/`, [cli, 'credential', '--auth-config', authFile]);

    const lib = sandbox.createPackage({ name: 'beta', version: '1.0.0' });
    const publish = await sandbox.run(['publish', '--registry', 'ck', '--no-verify', '--allow-dirty'], {
      cwd: lib,
      env: { ISSUED_TOKEN: registry.adminToken! },
    });
    assert.equal(publish.code, 0, publish.stderr);
    const app = sandbox.createApp('app', ['beta = { version = "1", registry = "ck" }'], 'fn main() { println!("{}", beta::name()); }\n');
    const run = await sandbox.run(['run', '-q'], { cwd: app, env: { ISSUED_TOKEN: registry.adminToken! } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'beta');
    assert.ok(!existsSync(join(sandbox.home, '.netrc')), 'no .netrc was needed');
    const hosts = readFileSync(calls, 'utf8').trim().split('\n');
    assert.ok(hosts.length >= 1 && hosts.every((h) => h === host), hosts.join(','));

    // A wrong token from the command is rejected by the registry.
    const app2 = sandbox.createApp('app2', ['beta = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    const rejected = await sandbox.run(['build'], { cwd: app2, env: { ISSUED_TOKEN: 'ckt_not_a_real_token' } });
    assert.notEqual(rejected.code, 0);
    assert.match(rejected.stderr, /token rejected for `ck`/);
  });
});
