// The real cargo 1.95 against a real `cratekeeper serve` with auth-required: login, publish two
// crates of which one depends on the other, build against them (cargo's reads over HTTP/2, which it
// asks for on plain http), yank and unyank, owners, search, info, and the refusals a user sees with
// a wrong token or none.

import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { runCli as runCliOn, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { startSharedBackends, type SharedBackends } from '../support/shared-backends.js';

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

for (const [mode, serveArgs, backend] of [
  ['one process', [], 'embedded'],
  ['two worker processes', ['--workers', '2'], 'embedded'],
  ['PostgreSQL + S3', [], 'postgres-s3'],
] as const)
  describe(`cargo end to end (sparse, auth-required, ${mode})`, () => {
    let server: RunningRegistry;
    let backends: SharedBackends | undefined;
    // The CLI works on the same registry as the server: same data folder, same database and bucket.
    let env: Record<string, string> = {};
    const runCli = (args: string[]) => runCliOn(args, { env });
    let cargo: CargoSandbox;
    let bobToken: string;
    const app = (name: string) =>
      cargo.createApp(
        name,
        ['e2e-alpha = { version = "0.1", registry = "ck" }', 'e2e-beta = { version = "0.1", registry = "ck" }'],
        'fn main() { println!("{} {}", e2e_alpha::name(), e2e_beta::greeting()); }\n',
      );

    before(async () => {
      if (backend === 'postgres-s3') {
        backends = await startSharedBackends();
        env = await backends.newRegistryEnv();
      }
      server = await startRegistry({ args: [...serveArgs], env });
      cargo = new CargoSandbox();
      cargo.configure(`${server.url}/index/`);
      assert.equal((await runCli(['user', 'add', 'bob', '--data-dir', server.dataDir])).code, 0);
      bobToken = (await runCli(['token', 'create', '--user', 'bob', '--data-dir', server.dataDir])).stdout.trim();
    });
    after(async () => {
      assert.equal(await server.stop(), 0);
      await backends?.stop();
    });

    it('cargo login reads the token from stdin', async () => {
      const login = ok(await cargo.run(['login', '--registry', 'ck'], { input: `${server.adminToken}\n` }), 'cargo login');
      assert.match(login.stderr, /Login token for `ck` saved/);
      assert.match(readFileSync(join(cargo.cargoHome, 'credentials.toml'), 'utf8'), /\[registries\.ck\]\ntoken = "ckt_/);
    });

    it('publishes two crates, one depending on the other', async () => {
      const alpha = cargo.createPackage({ name: 'e2e-alpha', version: '0.1.0', lib: 'pub fn name() -> &\'static str { "alpha" }\n' });
      const published = ok(await cargo.run(['publish', '--registry', 'ck', '--allow-dirty'], { cwd: alpha }), 'publish alpha');
      assert.match(published.stderr, /Published e2e-alpha v0\.1\.0 at registry `ck`/);

      const beta = cargo.createPackage({
        name: 'e2e-beta',
        version: '0.1.0',
        dependencies: ['e2e-alpha = { version = "0.1", registry = "ck" }'],
        lib: 'pub fn greeting() -> String { format!("beta uses {}", e2e_alpha::name()) }\n',
      });
      ok(await cargo.run(['publish', '--registry', 'ck', '--allow-dirty'], { cwd: beta }), 'publish beta');

      const again = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: alpha });
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /e2e-alpha@0\.1\.0 already exists/);
    });

    it('builds and runs a project that depends on them', async () => {
      const dir = app('consumer');
      // cargo asks for HTTP/2 on plain http (h2c): its index files and downloads all come over it.
      const debug = { CARGO_HTTP_DEBUG: 'true', CARGO_LOG: 'network=debug' };
      const fetched = ok(await cargo.run(['fetch'], { cwd: dir, env: debug }), 'cargo fetch');
      assert.match(fetched.stderr, /Received 101, Switching to HTTP\/2/);
      assert.match(fetched.stderr, /\[HTTP\/2\] \[\d+\] OPENED stream for \S+\/index\/e2\/e-\/e2e-alpha/);
      // config.json, the two index files (200 or 304), and at least the download publish did not make
      assert.ok((fetched.stderr.match(/< HTTP\/2 \d{3}/g) ?? []).length >= 4, fetched.stderr);
      assert.doesNotMatch(fetched.stderr, /< HTTP\/1\.1 (?!101)\d{3}/);
      const run = ok(await cargo.run(['run', '-q'], { cwd: dir }), 'cargo run');
      assert.equal(run.stdout.trim(), 'alpha beta uses alpha');
      assert.match(
        readFileSync(join(dir, 'Cargo.lock'), 'utf8'),
        /name = "e2e-alpha"\nversion = "0\.1\.0"\nsource = "sparse\+http:\/\/127\.0\.0\.1:\d+\/index\/"\nchecksum = "[0-9a-f]{64}"/,
      );
    });

    it('cargo yank hides a version from new lockfiles; an existing lockfile still builds', async () => {
      const yank = ok(await cargo.run(['yank', '--registry', 'ck', 'e2e-alpha@0.1.0']), 'cargo yank');
      assert.match(yank.stderr, /Yank e2e-alpha@0\.1\.0/);

      const fresh = app('fresh-after-yank');
      const resolve = await cargo.run(['generate-lockfile'], { cwd: fresh });
      assert.notEqual(resolve.code, 0, 'a fresh lockfile picked a yanked version');
      assert.match(resolve.stderr, /failed to select a version for the requirement `e2e-alpha = "\^0\.1"`[\s\S]*yanked/);

      const existing = join(cargo.root, 'apps', 'consumer');
      const rebuilt = ok(await cargo.run(['run', '-q', '--locked'], { cwd: existing }), 'build with existing lockfile');
      assert.equal(rebuilt.stdout.trim(), 'alpha beta uses alpha');
    });

    it('cargo yank --undo makes the version selectable again', async () => {
      ok(await cargo.run(['yank', '--registry', 'ck', '--undo', 'e2e-alpha@0.1.0']), 'cargo yank --undo');
      const fresh = join(cargo.root, 'apps', 'fresh-after-yank');
      ok(await cargo.run(['generate-lockfile'], { cwd: fresh }), 'generate-lockfile after unyank');
    });

    it('cargo owner --add, --list and --remove', async () => {
      ok(await cargo.run(['owner', '--registry', 'ck', '--add', 'bob', 'e2e-alpha']), 'owner --add');
      const list = ok(await cargo.run(['owner', '--registry', 'ck', '--list', 'e2e-alpha']), 'owner --list');
      assert.deepEqual(
        list.stdout
          .trim()
          .split('\n')
          .map((l) => l.trim())
          .sort(),
        ['admin', 'bob'],
      );
      ok(await cargo.run(['owner', '--registry', 'ck', '--remove', 'bob', 'e2e-alpha']), 'owner --remove');
      const after = ok(await cargo.run(['owner', '--registry', 'ck', '--list', 'e2e-alpha']), 'owner --list');
      assert.equal(after.stdout.trim(), 'admin');
      const unknown = await cargo.run(['owner', '--registry', 'ck', '--add', 'nobody', 'e2e-alpha']);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /there is no user `nobody`/);
    });

    it('a non-owner cannot publish a new version, and cargo shows why', async () => {
      const other = new CargoSandbox();
      other.configure(`${server.url}/index/`);
      ok(await other.run(['login', '--registry', 'ck'], { input: `${bobToken}\n` }), 'login as bob');
      const pkg = other.createPackage({ name: 'e2e-alpha', version: '0.2.0' });
      const res = await other.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /status 403 Forbidden[\s\S]*you are not an owner of crate `e2e-alpha`/);
    });

    it('cargo search', async () => {
      const res = ok(await cargo.run(['search', '--registry', 'ck', 'e2e']), 'cargo search');
      assert.match(res.stdout, /^e2e-alpha = "0\.1\.0"\s+# e2e-alpha, a test crate$/m);
      assert.match(res.stdout, /^e2e-beta = "0\.1\.0"\s+# e2e-beta, a test crate$/m);
      const limited = ok(await cargo.run(['search', '--registry', 'ck', '--limit', '1', 'e2e']), 'cargo search --limit');
      assert.match(limited.stdout, /and 1 crates more/);
    });

    it('cargo info', async () => {
      const res = ok(await cargo.run(['info', '--registry', 'ck', 'e2e-beta']), 'cargo info');
      assert.match(res.stdout, /^e2e-beta$/m);
      assert.match(res.stdout, /^version: 0\.1\.0/m);
      assert.match(res.stdout, /^e2e-beta, a test crate$/m);
      assert.match(res.stdout, /^license: MIT$/m);
    });

    it('a wrong token: cargo prints "token rejected"', async () => {
      const wrong = new CargoSandbox();
      wrong.configure(`${server.url}/index/`);
      const revoked = (await runCli(['token', 'create', '--user', 'bob', '--data-dir', server.dataDir])).stdout.trim();
      const list = await runCli(['token', 'list', '--user', 'bob', '--data-dir', server.dataDir]);
      const id = list.stdout.trim().split('\n').pop()!.split('\t')[0]!;
      assert.equal((await runCli(['token', 'revoke', id, '--data-dir', server.dataDir])).code, 0);
      ok(await wrong.run(['login', '--registry', 'ck'], { input: `${revoked}\n` }), 'login with a revoked token');
      const dir = wrong.createApp('wrong-token', ['e2e-alpha = { version = "0.1", registry = "ck" }'], 'fn main() {}\n');
      const res = await wrong.run(['generate-lockfile'], { cwd: dir });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /token rejected for `ck`/);
    });

    it('no token: the registry answers 401 and cargo asks to log in', async () => {
      const anonymous = new CargoSandbox();
      anonymous.configure(`${server.url}/index/`);
      const dir = anonymous.createApp('no-token', ['e2e-alpha = { version = "0.1", registry = "ck" }'], 'fn main() {}\n');
      const res = await anonymous.run(['generate-lockfile'], { cwd: dir });
      assert.notEqual(res.code, 0);
      assert.match(res.stderr, /no token found for `ck`, please run `cargo login --registry ck`/);
      // cargo login, given no token, points to the login_url of the 401 challenge.
      const login = await anonymous.run(['login', '--registry', 'ck'], { input: '\n' });
      assert.match(login.stderr, new RegExp(`please paste the token found on ${server.url.replace(/[.]/g, '\\.')}/me below`));
      copyFileSync(join(cargo.cargoHome, 'credentials.toml'), join(anonymous.cargoHome, 'credentials.toml'));
      ok(await anonymous.run(['generate-lockfile'], { cwd: dir }), 'after login');
    });
  });
