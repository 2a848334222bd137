// `cratekeeper-client login` / `logout` on the command line: the registry found by its name in
// cargo's configuration (or given as an index URL), the code and URL on stderr, the session stored,
// the sign-out revoked at the server; and the lookup of registry names as cargo does it.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLIENT_BIN } from './support/client-bin.js';
import { issued, oauthError, startOAuthTestServer, type OAuthTestServer } from './support/oauth-test-server.js';
import { resolveRegistry } from '../src/registry-lookup.js';
import { FileSessionStore } from '../src/session-file-store.js';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

let server: OAuthTestServer;
before(async () => {
  server = await startOAuthTestServer();
});
after(() => server.close());

void test('login --registry NAME: device flow on stderr, session stored; logout revokes and deletes', async () => {
  const home = makeTempDir();
  const cargoHome = join(home, 'cargo');
  mkdirSync(cargoHome);
  writeFileSync(join(cargoHome, 'config.toml'), `[registries.ck]\nindex = "sparse+${server.indexUrl}"\n`);
  const env = { PATH: process.env.PATH, HOME: home, CARGO_HOME: cargoHome };
  let polls = 0;
  server.onToken = () => (++polls < 3 ? oauthError('authorization_pending') : issued('ckt_cli', 'ckr_cli', 3600));

  const login = await runProgram(process.execPath, [CLIENT_BIN, 'login', '--registry', 'ck', '--device-name', 'ci@box'], {
    env,
    cwd: home,
  });
  assert.equal(login.code, 0, login.stderr);
  assert.equal(login.stdout, '', "stdout stays free (it is cargo's protocol channel when cargo runs us)");
  assert.match(login.stderr, new RegExp(`open ${server.url}/device and enter the code WDJB-MJHT`));
  assert.match(login.stderr, /Signed in to /);
  const store = new FileSessionStore(join(home, '.config', 'cratekeeper'));
  assert.equal((await store.read(server.indexUrl))!.access_token, 'ckt_cli');
  assert.equal(server.seen.find((r) => r.path === '/oauth/device_authorization')!.form.device_name, 'ci@box');

  const logout = await runProgram(process.execPath, [CLIENT_BIN, 'logout', '--registry', server.indexUrl], { env, cwd: home });
  assert.equal(logout.code, 0, logout.stderr);
  assert.match(logout.stderr, /Signed out of /);
  assert.deepEqual(
    server.seen.filter((r) => r.path === '/oauth/revoke').map((r) => r.form.token),
    ['ckr_cli'],
  );
  assert.equal(await store.read(server.indexUrl), undefined);

  const unknown = await runProgram(process.execPath, [CLIENT_BIN, 'login', '--registry', 'nope'], { env, cwd: home });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no registry named `nope`: it is neither in CARGO_REGISTRIES_NOPE_INDEX nor under \[registries\.nope\]/);
});

void test('login: an expired code ends with the command that starts over, exit status 2', async () => {
  const home = makeTempDir();
  server.onToken = () => oauthError('expired_token');
  const login = await runProgram(process.execPath, [CLIENT_BIN, 'login', '--registry', `sparse+${server.indexUrl}`], {
    env: { PATH: process.env.PATH, HOME: home },
  });
  assert.equal(login.code, 2);
  assert.match(
    login.stderr,
    new RegExp(
      `the code WDJB-MJHT expired before it was approved; run \`cratekeeper-client login --registry sparse\\+${server.indexUrl.replace(/[.]/g, '\\.')}\` again`,
    ),
  );
});

void test('registry names resolve as cargo does: environment, then the nearest .cargo/config.toml, then CARGO_HOME', () => {
  const root = makeTempDir();
  const project = join(root, 'work', 'project');
  mkdirSync(join(project, '.cargo'), { recursive: true });
  mkdirSync(join(root, 'cargo-home'));
  writeFileSync(
    join(root, 'cargo-home', 'config.toml'),
    '[registries.home]\nindex = "sparse+https://home.example/index/"\n[registries.both]\nindex = "sparse+https://far.example/"\n',
  );
  writeFileSync(join(project, '.cargo', 'config.toml'), '[registries.both]\nindex = "sparse+https://near.example/"\n');
  const env = { HOME: root, CARGO_HOME: join(root, 'cargo-home') };
  assert.equal(resolveRegistry('home', env, project), 'sparse+https://home.example/index/');
  assert.equal(resolveRegistry('both', env, project), 'sparse+https://near.example/');
  assert.equal(
    resolveRegistry('both', { ...env, CARGO_REGISTRIES_BOTH_INDEX: 'sparse+https://env.example/' }, project),
    'sparse+https://env.example/',
  );
  assert.equal(resolveRegistry('https://given.example/index/', env, project), 'https://given.example/index/');
});
