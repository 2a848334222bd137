// `cratekeeper proxy` with real peers: the real cargo holding no credential builds against an
// auth-required cratekeeper served over HTTPS; curl (HTTP/2 and HTTP/1.1) and git (smart HTTP to a
// server that demands the header) go through the same proxy; hosts that are not configured are
// tunnelled untouched and never see the header; rejected credentials are logged without the secret.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { eventually } from '../support/eventually.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { startEchoServer, startGitServer, startProxyProcess, type Recorder, type RunningProxyProcess } from '../client/helpers.js';
import { makeTestCertificates } from '../support/test-ca.js';
import { runProgram } from '@cratekeeper/test-support/run-program';

const GIT_SECRET = 'git-secret-7f3a';
const PLAIN_SECRET = 'plain-secret-91c2';

void describe('cratekeeper proxy', () => {
  const tls = makeTestCertificates();
  const work = makeTempDir('cratekeeper-proxy-');
  const caDir = join(work, 'proxy-ca');
  let registry: RunningRegistry;
  let git: Recorder;
  let other: Recorder;
  let plainConfigured: Recorder;
  let plainOther: Recorder;
  let proxy: RunningProxyProcess;
  let token: string;
  const toolEnv = () => ({ PATH: process.env.PATH, HOME: work, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' });

  before(async () => {
    registry = await startRegistry({ args: ['--tls-cert', tls.serverCert, '--tls-key', tls.serverKey] });
    assert.match(registry.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    token = registry.adminToken!;

    // Publish a crate directly (with cargo:token) so there is something to build against.
    const publisher = new CargoSandbox();
    publisher.configure(`${registry.url}/index/`, `[http]\ncainfo = "${tls.caCert}"\n`);
    const login = await publisher.run(['login', '--registry', 'ck'], { input: `${token}\n` });
    assert.equal(login.code, 0, login.stderr);
    const lib = publisher.createPackage({ name: 'alpha', version: '0.1.0' });
    const published = await publisher.run(['publish', '--registry', 'ck', '--no-verify', '--allow-dirty'], { cwd: lib });
    assert.equal(published.code, 0, published.stderr);

    // A bare git repository with one commit, served only to requests with the bearer token.
    const repos = join(work, 'repos');
    mkdirSync(repos);
    const seed = join(work, 'seed');
    const g = (cwd: string, ...args: string[]) =>
      execFileSync('git', args, {
        cwd,
        env: { ...toolEnv(), GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' },
      });
    mkdirSync(seed);
    g(seed, 'init', '-q', '-b', 'main');
    writeFileSync(join(seed, 'README'), 'hello through the proxy\n');
    g(seed, 'add', 'README');
    g(seed, 'commit', '-q', '-m', 'first');
    g(work, 'clone', '-q', '--bare', seed, join(repos, 'repo.git'));
    git = await startGitServer(repos, { cert: tls.serverCert, key: tls.serverKey }, `Bearer ${GIT_SECRET}`);

    other = await startEchoServer({ cert: tls.serverCert, key: tls.serverKey });
    plainConfigured = await startEchoServer();
    plainOther = await startEchoServer();

    const regPort = new URL(registry.url).port;
    const netrc = join(work, 'netrc');
    writeFileSync(
      netrc,
      [
        `machine 127.0.0.1:${regPort} login cargo password ${token}`,
        `machine 127.0.0.1:${git.port} login git password ${GIT_SECRET}`,
        `machine 127.0.0.1:${plainConfigured.port} login p password ${PLAIN_SECRET}`,
        // The fallback entry must not reach the unconfigured hosts through the proxy.
        'default login anyone password default-secret-never-sent',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const auth = join(work, 'auth.toml');
    writeFileSync(
      auth,
      [
        `[hosts."127.0.0.1:${regPort}"]`,
        'auth = "bearer"',
        `[hosts."127.0.0.1:${git.port}"]`,
        'auth = "bearer"',
        `[hosts."127.0.0.1:${plainConfigured.port}"]`,
        'auth = "custom_prefix:token"',
        '',
      ].join('\n'),
    );
    const init = await runCli(['proxy', 'init-ca', '--ca-dir', caDir, '--auth-config', auth]);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, new RegExp(`certificate: ${join(caDir, 'ca.pem')}`));
    assert.equal(statSync(join(caDir, 'ca-key.pem')).mode & 0o777, 0o600);
    const caText = execFileSync('openssl', ['x509', '-in', join(caDir, 'ca.pem'), '-noout', '-text'], { encoding: 'utf8' });
    assert.match(caText, /X509v3 Name Constraints: critical\s+Permitted:\s+DNS:invalid\s+IP:127\.0\.0\.1\/255\.255\.255\.255/);

    proxy = await startProxyProcess(['--netrc', netrc, '--auth-config', auth, '--ca-dir', caDir, '--origin-ca', tls.caCert]);
  });

  after(async () => {
    await proxy?.stop();
    await Promise.all([git?.close(), other?.close(), plainConfigured?.close(), plainOther?.close()]);
    await registry?.stop();
  });

  const proxyCa = () => join(caDir, 'ca.pem');

  void test('starts fast and prints its address on one line', () => {
    assert.match(proxy.address, /^127\.0\.0\.1:\d+$/);
    // Spawning node and loading the whole CLI counts here; the proxy's own start is a fraction of it.
    assert.ok(proxy.startupMs < 5000, `started in ${proxy.startupMs} ms`);
  });

  void test('the real cargo with no credential builds against the auth-required HTTPS registry', async () => {
    const sandbox = new CargoSandbox();
    writeFileSync(
      join(sandbox.cargoHome, 'config.toml'),
      `[registries.ck]\nindex = "sparse+${registry.url}/index/"\n\n[http]\nproxy = "${proxy.address}"\ncainfo = "${proxyCa()}"\n\n[net]\nretry = 0\n`,
    );
    const app = sandbox.createApp(
      'app',
      ['alpha = { version = "0.1", registry = "ck" }'],
      'fn main() { println!("{}", alpha::name()); }\n',
    );
    const run = await sandbox.run(['run', '-q'], { cwd: app, env: { NO_PROXY: '', no_proxy: '' } });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'alpha');
    assert.equal(existsSync(join(sandbox.cargoHome, 'credentials.toml')), false);

    // The same cargo without the proxy is refused: the registry does require authentication.
    writeFileSync(
      join(sandbox.cargoHome, 'config.toml'),
      `[registries.ck]\nindex = "sparse+${registry.url}/index/"\n\n[http]\ncainfo = "${tls.caCert}"\n\n[net]\nretry = 0\n`,
    );
    const direct = sandbox.createApp('direct', ['alpha = { version = "0.1", registry = "ck" }'], 'fn main() {}\n');
    const refused = await sandbox.run(['build'], { cwd: direct });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /401|credential-provider|no token/);
  });

  void test('curl: HTTP/2 and HTTP/1.1 to the registry through the proxy', async () => {
    for (const [flag, version] of [
      ['--http2', '2'],
      ['--http1.1', '1.1'],
    ] as const) {
      const result = await runProgram(
        'curl',
        [
          '-sS',
          '--noproxy',
          '',
          '--proxy',
          `http://${proxy.address}`,
          '--cacert',
          proxyCa(),
          flag,
          '-w',
          '\n%{http_code} %{http_version}',
          `${registry.url}/index/al/ph/alpha`,
        ],
        { env: toolEnv() },
      );
      assert.equal(result.code, 0, result.stderr);
      const [body, status] = [
        result.stdout.slice(0, result.stdout.lastIndexOf('\n')),
        result.stdout.slice(result.stdout.lastIndexOf('\n') + 1),
      ];
      assert.equal(status, `200 ${version}`);
      assert.equal(JSON.parse(body.trim().split('\n')[0]!).name, 'alpha');
    }
    const config = await runProgram(
      'curl',
      ['-sS', '--noproxy', '', '--proxy', `http://${proxy.address}`, '--cacert', proxyCa(), `${registry.url}/index/config.json`],
      { env: toolEnv() },
    );
    assert.equal(JSON.parse(config.stdout)['auth-required'], false, 'the proxy owns authentication for this registry');
  });

  void test('git clones over HTTPS through the proxy from a server that requires the header', async () => {
    const dest = join(work, 'clone');
    const env = { ...toolEnv(), NO_PROXY: '', no_proxy: '' };
    const direct = await runProgram(
      'git',
      ['-c', `http.sslCAInfo=${tls.caCert}`, 'clone', '-q', `${git.url}/repo.git`, join(work, 'refused')],
      { env },
    );
    assert.notEqual(direct.code, 0, 'without the proxy the server refuses');
    const before = git.seen.length;
    const clone = await runProgram(
      'git',
      ['-c', `http.proxy=http://${proxy.address}`, '-c', `http.sslCAInfo=${proxyCa()}`, 'clone', '-q', `${git.url}/repo.git`, dest],
      { env },
    );
    assert.equal(clone.code, 0, clone.stderr);
    assert.equal(readFileSync(join(dest, 'README'), 'utf8'), 'hello through the proxy\n');
    const viaProxy = git.seen.slice(before);
    assert.ok(viaProxy.length >= 2, JSON.stringify(viaProxy));
    assert.ok(
      viaProxy.every((r) => r.authorization === `Bearer ${GIT_SECRET}`),
      JSON.stringify(viaProxy),
    );
  });

  void test('an unconfigured host is tunnelled untouched and never sees a header', async () => {
    // Verified with the origin's own CA: the proxy did not terminate TLS.
    const https = await runProgram(
      'curl',
      ['-sS', '--noproxy', '', '--proxy', `http://${proxy.address}`, '--cacert', tls.caCert, `${other.url}/hello`],
      { env: toolEnv() },
    );
    assert.equal(https.code, 0, https.stderr);
    assert.equal(https.stdout, 'echo 200\n');
    assert.deepEqual(other.seen, [{ method: 'GET', path: '/hello', authorization: undefined }]);
    // And with the proxy CA only, the tunnel shows the origin's certificate, which curl then refuses.
    const refused = await runProgram(
      'curl',
      ['-sS', '--noproxy', '', '--proxy', `http://${proxy.address}`, '--cacert', proxyCa(), `${other.url}/again`],
      { env: toolEnv() },
    );
    assert.equal(refused.code, 60, refused.stderr);

    const plain = await runProgram('curl', ['-sS', '--noproxy', '', '--proxy', `http://${proxy.address}`, `${plainOther.url}/plain`], {
      env: toolEnv(),
    });
    assert.equal(plain.stdout, 'echo 200\n');
    assert.deepEqual(plainOther.seen, [{ method: 'GET', path: '/plain', authorization: undefined }]);
  });

  void test('plain-http requests to a configured host get its header; rejections are logged without the secret', async () => {
    const ok = await runProgram('curl', ['-sS', '--noproxy', '', '--proxy', `http://${proxy.address}`, `${plainConfigured.url}/file?x=1`], {
      env: toolEnv(),
    });
    assert.equal(ok.stdout, 'echo 200\n');
    const rejected = await runProgram(
      'curl',
      ['-sS', '--noproxy', '', '--proxy', `http://${proxy.address}`, `${plainConfigured.url}/reject/this?sig=abc`],
      { env: toolEnv() },
    );
    assert.equal(rejected.stdout, 'echo 401\n');
    assert.deepEqual(plainConfigured.seen, [
      { method: 'GET', path: '/file?x=1', authorization: `token ${PLAIN_SECRET}` },
      { method: 'GET', path: '/reject/this?sig=abc', authorization: `token ${PLAIN_SECRET}` },
    ]);
    const log = await eventually(() => {
      const text = proxy.stderr();
      assert.match(text, new RegExp(`127\\.0\\.0\\.1:${plainConfigured.port} rejected the credentials: GET /reject/this -> 401`));
      return text;
    });
    for (const secret of [token, GIT_SECRET, PLAIN_SECRET, 'default-secret-never-sent', 'sig=abc'])
      assert.ok(!log.includes(secret), `the log shows ${secret}`);
  });

  void test('many parallel connections', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        runProgram(
          'curl',
          [
            '-sS',
            '--noproxy',
            '',
            '--proxy',
            `http://${proxy.address}`,
            '--cacert',
            proxyCa(),
            '-o',
            '/dev/null',
            '-w',
            '%{http_code}',
            `${registry.url}/index/al/ph/alpha?n=${i}`,
          ],
          { env: toolEnv() },
        ),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.stdout),
      Array.from({ length: 24 }, () => '200'),
    );
  });
});
