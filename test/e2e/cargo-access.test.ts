// Scoped tokens and access rules as the real cargo meets them.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

describe('cargo with scoped tokens and access rules', () => {
  let server: RunningRegistry;
  const cli = async (...args: string[]) => {
    const res = await runCli([...args, '--data-dir', server.dataDir]);
    assert.equal(res.code, 0, res.stderr);
    return res.stdout.trim();
  };
  const sandboxWith = async (token: string) => {
    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    const login = await cargo.run(['login', '--registry', 'ck'], { input: `${token}\n` });
    assert.equal(login.code, 0, login.stderr);
    return cargo;
  };

  before(async () => {
    const configFile = join(makeTempDir(), 'cratekeeper.toml');
    writeFileSync(configFile, '[[access.rules]]\ncrates = ["secret"]\nread = ["group:core"]\n');
    server = await startRegistry({ args: ['--config', configFile] });
    await cli('user', 'add', 'alice');
    await cli('user', 'add', 'bob');
    await cli('group', 'add-member', 'core', 'alice');
    const alice = await sandboxWith(await cli('token', 'create', '--user', 'alice'));
    for (const name of ['secret', 'foo-lib', 'bar']) {
      const pkg = alice.createPackage({ name, version: '1.0.0' });
      const res = await alice.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg });
      assert.equal(res.code, 0, res.stderr);
    }
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('a read-only token cannot publish, and cargo shows why', async () => {
    const cargo = await sandboxWith(await cli('token', 'create', '--user', 'alice', '--scopes', 'read'));
    const pkg = cargo.createPackage({ name: 'bar', version: '1.1.0' });
    const res = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg });
    assert.notEqual(res.code, 0);
    // Refused before the upload is read, so before the server knows whether bar is new: it names both.
    assert.match(res.stderr, /status 403 Forbidden\): this token lacks the `publish-new` and `publish-update` scopes \(it has: read\)/);
  });

  it('a token scoped to foo-* cannot yank bar', async () => {
    const cargo = await sandboxWith(await cli('token', 'create', '--user', 'alice', '--scopes', 'read,yank', '--crates', 'foo-*'));
    const ok = await cargo.run(['yank', '--registry', 'ck', 'foo-lib@1.0.0']);
    assert.equal(ok.code, 0, ok.stderr);
    const res = await cargo.run(['yank', '--registry', 'ck', 'bar@1.0.0']);
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /this token is limited to crates matching `foo-\*`, and `bar` is not one of them/);
  });

  it('an expired token gets 401: cargo says the token was rejected', async () => {
    const short = await cli('token', 'create', '--user', 'alice', '--expires-in-days', '0.00002'); // ~1.7 s
    const cargo = await sandboxWith(short);
    await new Promise((r) => setTimeout(r, 2500));
    const dir = cargo.createApp('expired', ['bar = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    const res = await cargo.run(['generate-lockfile'], { cwd: dir });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /token rejected for `ck`/);
    assert.match(res.stderr, /the token expired at/);
  });

  it('cargo owner --add group:NAME makes every member of the group an owner', async () => {
    const bob = await sandboxWith(await cli('token', 'create', '--user', 'bob'));
    const pkg = bob.createPackage({ name: 'bar', version: '1.2.0' });
    const refused = await bob.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg });
    assert.match(refused.stderr, /you are not an owner of crate `bar`/);

    await cli('group', 'add-member', 'backend', 'bob');
    const alice = await sandboxWith(await cli('token', 'create', '--user', 'alice'));
    const add = await alice.run(['owner', '--registry', 'ck', '--add', 'group:backend', 'bar']);
    assert.equal(add.code, 0, add.stderr);
    const list = await alice.run(['owner', '--registry', 'ck', '--list', 'bar']);
    assert.deepEqual(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => l.trim())
        .sort(),
      ['alice', 'group:backend'],
    );
    const published = await bob.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg });
    assert.equal(published.code, 0, published.stderr);
  });

  it('a reader without access to `secret` is told there is no such package', async () => {
    const bob = await sandboxWith(await cli('token', 'create', '--user', 'bob'));
    const dir = bob.createApp('wants-secret', ['secret = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    const res = await bob.run(['generate-lockfile'], { cwd: dir });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /no matching package named `secret` found/);
    const search = await bob.run(['search', '--registry', 'ck', 'secret']);
    assert.doesNotMatch(search.stdout, /secret/);

    const alice = await sandboxWith(await cli('token', 'create', '--user', 'alice'));
    const allowed = alice.createApp('gets-secret', ['secret = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    const ok = await alice.run(['generate-lockfile'], { cwd: allowed });
    assert.equal(ok.code, 0, ok.stderr);
  });
});
