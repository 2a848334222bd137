// Mirroring through an outgoing proxy (`[[upstreams]] proxy = "..."`), with real peers: Debian's
// tinyproxy (http:// CONNECT) and dante (socks5://) in front of Debian's nginx serving a static
// sparse index over plain HTTP, and of a second cratekeeper served over HTTPS that wants a token.
// The real cargo builds through each mirror; every upstream request nginx logged must have come
// through a tunnel the proxy logged, and with the proxy stopped an uncached file cannot be fetched.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { CargoSandbox } from '../support/cargo.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { ensureDebianPackages } from '../support/apt.js';
import { closureOf, readDebianCrates, type DebianCrate } from '../support/debian-crates.js';
import { startHttpConnectProxy, startSocks5Proxy, type RunningForwardProxy } from '../support/forward-proxy.js';
import { httpRequest } from '../support/http-client.js';
import { writeStaticIndex } from '../support/mirror-upstreams.js';
import { startNginx, type RunningNginx } from '../support/nginx-server.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { makeTestCertificates } from '../support/test-ca.js';
import { runProgram } from '@cratekeeper/test-support/run-program';

describe('mirroring through an outgoing proxy', () => {
  const tls = makeTestCertificates();
  let crates: DebianCrate[];
  let nginx: RunningNginx;
  let tlsUpstream: RunningRegistry;
  let mirror: RunningRegistry;
  const proxies: Partial<Record<'http' | 'socks5', RunningForwardProxy>> = {};
  const auth = () => ({ authorization: mirror.adminToken! });

  const cargoFor = (upstream: string) => {
    const cargo = new CargoSandbox('ck');
    cargo.configure(`${mirror.url}/mirrors/${upstream}/index/`, '[source.crates-io]\nreplace-with = "ck"\n');
    return cargo;
  };
  const cargoEnv = () => ({ CARGO_REGISTRIES_CK_TOKEN: mirror.adminToken! });
  /** Requests nginx logged (any status). */
  const nginxRequests = () => nginx.accessLog().length;

  before(async () => {
    ensureDebianPackages(['librust-serde-json-dev']);
    crates = closureOf(['serde_json'], readDebianCrates());
    assert.ok(crates.some((c) => c.name === 'itoa') && crates.some((c) => c.name === 'ryu'), crates.map((c) => c.name).join(', '));
    const root = makeTempDir('cratekeeper-proxied-index-');
    nginx = await startNginx({ root, prepare: (url) => writeStaticIndex(root, url, crates) });

    tlsUpstream = await startRegistry({ args: ['--tls-cert', tls.serverCert, '--tls-key', tls.serverKey] });
    const body = join(makeTempDir('cratekeeper-publish-'), 'body');
    writeFileSync(body, await publishBodyFor('alpha', '0.1.0'));
    const published = await runProgram('curl', [
      '-sS',
      '--noproxy',
      '*',
      '--cacert',
      tls.caCert,
      '-X',
      'PUT',
      '-H',
      `authorization: ${tlsUpstream.adminToken}`,
      '--data-binary',
      `@${body}`,
      '-w',
      '\n%{http_code}',
      `${tlsUpstream.url}/api/v1/crates/new`,
    ]);
    assert.match(published.stdout, /\n200$/, published.stdout + published.stderr);

    [proxies.http, proxies.socks5] = await Promise.all([startHttpConnectProxy(), startSocks5Proxy()]);
    const upstream = (name: string, url: string, proxy: RunningForwardProxy, extra = '') => `
[[upstreams]]
name = "${name}"
index_url = "sparse+${url}/index/"
proxy = "${proxy.url}"
index_ttl_seconds = 0
stale_timeout_ms = 2000
timeout_ms = 5000
${extra}`;
    const tokenAuth = 'auth = { token_env = "TLS_UPSTREAM_TOKEN" }';
    const configFile = join(makeTempDir('cratekeeper-proxied-mirror-'), 'cratekeeper.toml');
    writeFileSync(
      configFile,
      upstream('static-http', nginx.url, proxies.http) +
        upstream('static-socks', nginx.url, proxies.socks5) +
        upstream('tls-http', tlsUpstream.url, proxies.http, tokenAuth) +
        upstream('tls-socks', tlsUpstream.url, proxies.socks5, tokenAuth),
    );
    mirror = await startRegistry({
      args: ['--config', configFile],
      env: { CRATEKEEPER_LOG__LEVEL: 'info', NODE_EXTRA_CA_CERTS: tls.caCert, TLS_UPSTREAM_TOKEN: tlsUpstream.adminToken! },
    });
  });

  after(async () => {
    await mirror?.stop();
    await Promise.all([proxies.http?.stop(), proxies.socks5?.stop(), nginx?.stop()]);
    await tlsUpstream?.stop();
  });

  for (const [name, kind] of [
    ['static-http', 'http'],
    ['static-socks', 'socks5'],
  ] as const) {
    it(`${name}: cargo builds through the mirror; every request nginx saw came through ${kind}://`, async () => {
      const proxy = proxies[kind]!;
      const other = proxies[kind === 'http' ? 'socks5' : 'http']!;
      const [tunnelsBefore, otherBefore, nginxBefore] = [proxy.tunnels().length, other.tunnels().length, nginxRequests()];

      const cargo = cargoFor(name);
      const app = cargo.createApp(`via-${name}`, ['itoa = "1"'], 'fn main() { println!("{}", itoa::Buffer::new().format(42)); }\n');
      const run = await cargo.run(['run', '-q'], { cwd: app, env: cargoEnv() });
      assert.equal(run.code, 0, `${run.stderr}\nmirror:\n${mirror.output()}\n${kind}:\n${proxy.log()}`);
      assert.equal(run.stdout.trim(), '42');

      const upstreamRequests = nginx.accessLog().slice(nginxBefore);
      const itoa = crates.find((c) => c.name === 'itoa')!;
      assert.ok(upstreamRequests.includes('GET /index/config.json 200'), upstreamRequests.join('\n'));
      assert.ok(upstreamRequests.includes(`GET /index/${indexPathOf('itoa')} 200`), upstreamRequests.join('\n'));
      assert.ok(upstreamRequests.includes(`GET /crates/itoa/${itoa.version}.crate 200`), upstreamRequests.join('\n'));
      // The mirror opens one tunnel per upstream request (no keep-alive through a proxy).
      const tunnels = proxy.tunnels().slice(tunnelsBefore);
      assert.ok(
        tunnels.every((t) => t === `127.0.0.1:${nginx.port}`),
        tunnels.join(', '),
      );
      assert.ok(
        tunnels.length >= upstreamRequests.length,
        `${tunnels.length} tunnels for ${upstreamRequests.length} upstream requests:\n${upstreamRequests.join('\n')}`,
      );
      assert.equal(other.tunnels().length, otherBefore, "the other upstream's proxy was used");
    });
  }

  for (const [name, kind] of [
    ['tls-http', 'http'],
    ['tls-socks', 'socks5'],
  ] as const) {
    it(`${name}: an HTTPS upstream with a token, through ${kind}://`, async () => {
      const proxy = proxies[kind]!;
      const before = proxy.tunnels().length;
      const cargo = cargoFor(name);
      const app = cargo.createApp(`via-${name}`, ['alpha = "0.1"'], 'fn main() { alpha::f(); println!("ok"); }\n');
      const run = await cargo.run(['run', '-q'], { cwd: app, env: cargoEnv() });
      assert.equal(run.code, 0, `${run.stderr}\nmirror:\n${mirror.output()}\n${kind}:\n${proxy.log()}`);
      assert.equal(run.stdout.trim(), 'ok');
      const tunnels = proxy.tunnels().slice(before);
      const port = new URL(tlsUpstream.url).port;
      // config.json, the index file and the .crate at least.
      assert.ok(tunnels.length >= 3 && tunnels.every((t) => t === `127.0.0.1:${port}`), tunnels.join(', '));
    });
  }

  it('with the http:// proxy stopped, that mirror cannot fetch an uncached file; the socks5:// one still can', async () => {
    await proxies.http!.stop();
    const path = indexPathOf('ryu');
    const viaHttp = await httpRequest(`${mirror.url}/mirrors/static-http/index/${path}`, { headers: auth() });
    assert.equal(viaHttp.status, 503, viaHttp.body.toString());
    assert.match(
      viaHttp.body.toString(),
      new RegExp(
        `fetching ${path} from upstream \`static-http\` failed: .*upstream proxy http://127\\.0\\.0\\.1:${proxies.http!.port} failed: connect ECONNREFUSED`,
      ),
    );
    const viaSocks = await httpRequest(`${mirror.url}/mirrors/static-socks/index/${path}`, { headers: auth() });
    assert.equal(viaSocks.status, 200, viaSocks.body.toString());
    assert.ok(proxies.socks5!.tunnels().length > 0);
  });
});
