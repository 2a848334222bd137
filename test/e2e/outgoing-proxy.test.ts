// `cratekeeper proxy --upstream-proxy`: the auth proxy's own outgoing connections go through a real
// forward proxy, Debian's tinyproxy (http:// CONNECT) or dante (socks5://). The real cargo holding
// no credential builds against an auth-required cratekeeper served over HTTPS, and curl reaches a
// host that is only tunnelled; the outgoing proxy's log must show a tunnel to the registry for each.
// With the outgoing proxy gone, the error names it.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { startHttpConnectProxy, startSocks5Proxy, type RunningForwardProxy } from '../support/forward-proxy.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { startProxyProcess, type RunningProxyProcess } from '../client/helpers.js';
import { makeTestCertificates } from '../support/test-ca.js';
import { runProgram } from '@cratekeeper/test-support/run-program';

void describe('cratekeeper proxy --upstream-proxy', () => {
  const tls = makeTestCertificates();
  const work = makeTempDir('cratekeeper-outgoing-proxy-');
  const caDir = join(work, 'proxy-ca');
  const netrc = join(work, 'netrc');
  const auth = join(work, 'auth.toml');
  let registry: RunningRegistry;
  let regPort: string;
  const outgoing: Partial<Record<'http' | 'socks5', RunningForwardProxy>> = {};
  const proxies: RunningProxyProcess[] = [];
  const toolEnv = () => ({ PATH: process.env.PATH, HOME: work, NO_PROXY: '', no_proxy: '' });

  before(async () => {
    registry = await startRegistry({ args: ['--tls-cert', tls.serverCert, '--tls-key', tls.serverKey] });
    regPort = new URL(registry.url).port;
    await publishOverTls(registry, tls.caCert, 'alpha');

    writeFileSync(netrc, `machine 127.0.0.1:${regPort} login cargo password ${registry.adminToken}\n`, { mode: 0o600 });
    writeFileSync(auth, `[hosts."127.0.0.1:${regPort}"]\nauth = "bearer"\n`);
    const init = await runCli(['proxy', 'init-ca', '--ca-dir', caDir, '--auth-config', auth]);
    assert.equal(init.code, 0, init.stderr);
    [outgoing.http, outgoing.socks5] = await Promise.all([startHttpConnectProxy(), startSocks5Proxy()]);
  });

  after(async () => {
    for (const p of proxies) await p.stop();
    await Promise.all([outgoing.http?.stop(), outgoing.socks5?.stop()]);
    await registry?.stop();
  });

  const startAuthProxy = async (upstream: string) => {
    const proxy = await startProxyProcess([
      '--netrc',
      netrc,
      '--auth-config',
      auth,
      '--ca-dir',
      caDir,
      '--origin-ca',
      tls.caCert,
      '--upstream-proxy',
      upstream,
    ]);
    proxies.push(proxy);
    return proxy;
  };

  const cargoThrough = (proxy: RunningProxyProcess) => {
    const sandbox = new CargoSandbox();
    writeFileSync(
      join(sandbox.cargoHome, 'config.toml'),
      `[registries.ck]\nindex = "sparse+${registry.url}/index/"\n\n[http]\nproxy = "${proxy.address}"\ncainfo = "${join(caDir, 'ca.pem')}"\n\n[net]\nretry = 0\n`,
    );
    return sandbox;
  };

  for (const kind of ['http', 'socks5'] as const) {
    void test(`through ${kind}://: cargo builds against the auth-required HTTPS registry; curl's plain tunnel goes the same way`, async () => {
      const forward = outgoing[kind]!;
      const proxy = await startAuthProxy(forward.url);
      const before = forward.tunnels().length;

      const sandbox = cargoThrough(proxy);
      const app = sandbox.createApp(
        `app-${kind}`,
        ['alpha = { version = "0.1", registry = "ck" }'],
        'fn main() { alpha::f(); println!("built"); }\n',
      );
      const run = await sandbox.run(['run', '-q'], { cwd: app, env: { NO_PROXY: '', no_proxy: '' } });
      assert.equal(run.code, 0, `${run.stderr}\nproxy log:\n${proxy.stderr()}\n${forward.kind} log:\n${forward.log()}`);
      assert.equal(run.stdout.trim(), 'built');
      const viaRegistry = forward.tunnels().slice(before);
      assert.ok(viaRegistry.length >= 1 && viaRegistry.every((t) => t === `127.0.0.1:${regPort}`), `tunnels: ${viaRegistry.join(', ')}`);

      // `localhost:<port>` is not in auth.toml: the auth proxy only tunnels it, through the outgoing
      // proxy too. curl checks the origin's own certificate, and the registry wants a token.
      const tunnelled = await runProgram(
        'curl',
        [
          '-sS',
          '--proxy',
          `http://${proxy.address}`,
          '--cacert',
          tls.caCert,
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          `https://localhost:${regPort}/index/config.json`,
        ],
        { env: toolEnv() },
      );
      assert.equal(tunnelled.stdout, '401', tunnelled.stderr);
      // tinyproxy logs the name it was asked for; dante the address it connected to.
      assert.equal(forward.tunnels().at(-1), `${kind === 'http' ? 'localhost' : '127.0.0.1'}:${regPort}`, forward.log());
    });
  }

  for (const kind of ['http', 'socks5'] as const) {
    void test(`with the ${kind}:// outgoing proxy down, the error names it`, async () => {
      const forward = outgoing[kind]!;
      const proxy = await startAuthProxy(forward.url);
      await forward.stop();

      const curl = await runProgram(
        'curl',
        [
          '-sS',
          '--proxy',
          `http://${proxy.address}`,
          '--cacert',
          join(caDir, 'ca.pem'),
          '-w',
          '\n%{http_code}',
          `${registry.url}/index/config.json`,
        ],
        { env: toolEnv() },
      );
      assert.match(curl.stdout, /\n502$/);
      assert.match(
        curl.stdout,
        new RegExp(
          `^cratekeeper proxy: 127\\.0\\.0\\.1:${regPort}: upstream proxy ${forward.url.replaceAll('.', '\\.')} failed: connect ECONNREFUSED`,
        ),
        curl.stdout,
      );

      const sandbox = cargoThrough(proxy);
      const app = sandbox.createApp(`down-${kind}`, ['alpha = { version = "0.1", registry = "ck" }'], 'fn main() {}\n');
      const run = await sandbox.run(['generate-lockfile'], { cwd: app, env: { NO_PROXY: '', no_proxy: '' } });
      assert.notEqual(run.code, 0);
      assert.match(run.stderr, /502/);
      assert.match(run.stderr, new RegExp(`upstream proxy ${forward.url.replaceAll('.', '\\.')} failed`), run.stderr);

      const tunnelled = await runProgram(
        'curl',
        ['-sS', '--proxy', `http://${proxy.address}`, '--cacert', tls.caCert, `https://localhost:${regPort}/index/config.json`],
        { env: toolEnv() },
      );
      assert.notEqual(tunnelled.code, 0);
      await eventually(() =>
        assert.match(proxy.stderr(), new RegExp(`tunnel to localhost:${regPort} failed: .*upstream proxy`), proxy.stderr()),
      );
    });
  }

  void test('an outgoing proxy that hangs up before answering CONNECT gives a prompt 502, not a hang', async () => {
    const hangup = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => hangup.listen(0, '127.0.0.1', resolve));
    const { port } = hangup.address() as AddressInfo;
    try {
      const proxy = await startAuthProxy(`http://127.0.0.1:${port}`);
      const curl = await runProgram(
        'curl',
        [
          '-sS',
          '--max-time',
          '10',
          '--proxy',
          `http://${proxy.address}`,
          '--cacert',
          join(caDir, 'ca.pem'),
          '-w',
          '\n%{http_code}',
          `${registry.url}/index/config.json`,
        ],
        { env: toolEnv() },
      );
      assert.match(
        curl.stdout,
        new RegExp(
          `upstream proxy 127\\.0\\.0\\.1:${port} closed the connection before answering CONNECT 127\\.0\\.0\\.1:${regPort}\n*502$`,
        ),
        curl.stdout + curl.stderr,
      );
    } finally {
      hangup.close();
      hangup.unref();
    }
  });
});

/** Publishes a small fixture crate over HTTPS (curl, trusting the test CA). */
async function publishOverTls(registry: RunningRegistry, caCert: string, name: string): Promise<void> {
  const body = join(makeTempDir('cratekeeper-publish-'), 'body');
  writeFileSync(body, await publishBodyFor(name, '0.1.0'));
  const result = await runProgram('curl', [
    '-sS',
    '--noproxy',
    '*',
    '--cacert',
    caCert,
    '-X',
    'PUT',
    '-H',
    `authorization: ${registry.adminToken}`,
    '--data-binary',
    `@${body}`,
    '-w',
    '\n%{http_code}',
    `${registry.url}/api/v1/crates/new`,
  ]);
  assert.match(result.stdout, /\n200$/, `publishing ${name}: ${result.stdout}${result.stderr}`);
}
