// HTTPS: the real cargo against `serve --tls-cert/--tls-key`, trusting a test CA through
// CARGO_HTTP_CAINFO; HTTP/2 negotiated by ALPN, HTTP/1.1 as the fallback.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-ca.js';

describe('TLS with HTTP/2', () => {
  let certs: TestCertificates;
  let server: RunningRegistry;
  before(async () => {
    certs = makeTestCertificates();
    server = await startRegistry({ args: ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey] });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('listens on https', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('negotiates h2 by ALPN', async () => {
    const session = connect(server.url, { ca: readFileSync(certs.caCert) });
    try {
      const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/index/config.json', authorization: server.adminToken! });
        let body = '';
        let status = 0;
        stream.on('response', (headers) => (status = Number(headers[':status'])));
        stream.on('data', (c: Buffer) => (body += c.toString()));
        stream.on('end', () => resolve({ status, body }));
        stream.on('error', reject);
      });
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(session.remoteSettings.maxConcurrentStreams, 100, 'open requests per connection, bounded');
      assert.equal(status, 200);
      assert.equal(JSON.parse(body).api, server.url);
    } finally {
      session.close();
    }
  });

  it('still answers HTTP/1.1 clients', async () => {
    const res = await new Promise<{ status: number; version: string }>((resolve, reject) => {
      const req = httpsRequest(
        `${server.url}/index/config.json`,
        { ca: readFileSync(certs.caCert), headers: { authorization: server.adminToken! } },
        (r) => {
          r.resume();
          r.on('end', () => resolve({ status: r.statusCode!, version: r.httpVersion }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(res, { status: 200, version: '1.1' });
  });

  it('serves the real cargo over HTTPS (HTTP/2) with a CA from CARGO_HTTP_CAINFO', async () => {
    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    const env = { CARGO_HTTP_CAINFO: certs.caCert };
    const login = await cargo.run(['login', '--registry', 'ck'], { input: `${server.adminToken}\n`, env });
    assert.equal(login.code, 0, login.stderr);
    const pkg = cargo.createPackage({ name: 'tls-lib', version: '1.0.0', lib: 'pub fn answer() -> u32 { 42 }\n' });
    const publish = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg, env });
    assert.equal(publish.code, 0, publish.stderr);

    const dir = cargo.createApp(
      'tls-app',
      ['tls-lib = { version = "1", registry = "ck" }'],
      'fn main() { println!("{}", tls_lib::answer()); }\n',
    );
    const run = await cargo.run(['run', '-q'], {
      cwd: dir,
      env: { ...env, CARGO_HTTP_DEBUG: 'true', CARGO_LOG: 'network=debug' },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), '42');
    assert.match(run.stderr, /HTTP\/2 200/, 'cargo did not use HTTP/2');
  });

  it('is refused by cargo without the CA', async () => {
    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    const dir = cargo.createApp('no-ca', ['tls-lib = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    const res = await cargo.run(['generate-lockfile'], { cwd: dir, env: { CARGO_REGISTRIES_CK_TOKEN: server.adminToken! } });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /certificate|SSL/i);
  });
});
