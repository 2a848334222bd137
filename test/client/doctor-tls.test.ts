// `cratekeeper doctor` against a registry served over HTTPS by a CA the system does not know: the
// TLS finding points at http.cainfo / CARGO_HTTP_CAINFO, and the settings cargo would use (a
// relative cainfo in the project's .cargo/config.toml, HTTPS_PROXY and NO_PROXY) are the ones used.

import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTestCertificates, type TestCertificates } from '../support/test-ca.js';
import { assertNoErrors, DoctorSetup, findingLine, registryToml } from './doctor-setup.js';
import { freePort } from '../support/local-daemons.js';

describe('cratekeeper doctor over https', () => {
  let certs: TestCertificates;
  let server: RunningRegistry;
  before(async () => {
    certs = makeTestCertificates();
    server = await startRegistry({ args: ['--tls-cert', certs.serverCert, '--tls-key', certs.serverKey] });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  function setup(): DoctorSetup {
    const s = new DoctorSetup();
    s.write('cargo-home/config.toml', registryToml('ck', `sparse+${server.url}/index/`, 'credential-provider = "cargo:token"'));
    s.write('cargo-home/credentials.toml', `[registries.ck]\ntoken = "${server.adminToken}"\n`, 0o600);
    return s;
  }

  it('points at http.cainfo / CARGO_HTTP_CAINFO when the certificate is not trusted', async () => {
    const run = await setup().doctor();
    assert.equal(run.code, 1);
    const line = findingLine(run, 'error', 'tls', 'ck');
    assert.match(line, /the certificate of 127\.0\.0\.1:\d+ is not trusted by the system's CA list/);
    assert.match(line, /fix: put `cainfo = "\/path\/to\/your-registry-ca\.pem"` under \[http\] .*or export CARGO_HTTP_CAINFO=/);
  });

  it('trusts the CA given by CARGO_HTTP_CAINFO', async () => {
    const run = await setup().doctor([], { CARGO_HTTP_CAINFO: certs.caCert });
    assertNoErrors(run);
    assert.match(findingLine(run, 'ok', 'reach', 'ck'), /certificate trusted/);
    findingLine(run, 'ok', 'token-valid', 'ck');
  });

  it("reads a relative http.cainfo from the project's .cargo/config.toml relative to the project folder", async () => {
    const s = setup();
    s.write('work/app/.cargo/config.toml', '[http]\ncainfo = "certs/ca.pem"\n');
    s.write('work/app/certs/.keep', '');
    copyFileSync(certs.caCert, join(s.project, 'certs', 'ca.pem'));
    const run = await s.doctor();
    assertNoErrors(run);
  });

  it('says when http.cainfo holds another CA, and when its file is missing', async () => {
    const other = makeTestCertificates();
    const wrong = await setup().doctor([], { CARGO_HTTP_CAINFO: other.caCert });
    assert.equal(wrong.code, 1);
    assert.match(findingLine(wrong, 'error', 'tls', 'ck'), /not signed by a CA in http\.cainfo/);

    const missing = await setup().doctor([], { CARGO_HTTP_CAINFO: '/nonexistent/ca.pem' });
    assert.equal(missing.code, 1);
    assert.match(
      findingLine(missing, 'error', 'tls', 'ck'),
      /http\.cainfo = "\/nonexistent\/ca\.pem" \(environment variable CARGO_HTTP_CAINFO\) cannot be read.* fix: export CARGO_HTTP_CAINFO=/,
    );
  });

  it('goes through HTTPS_PROXY as cargo would, and direct when NO_PROXY lists the host', async () => {
    const port = await freePort(); // nothing listens there: a proxy that is down
    const env = { CARGO_HTTP_CAINFO: certs.caCert, HTTPS_PROXY: `127.0.0.1:${port}` };
    const down = await setup().doctor([], env);
    assert.equal(down.code, 1);
    assert.match(findingLine(down, 'error', 'proxy', 'ck'), /the proxy \(environment variable HTTPS_PROXY\) did not get through/);

    const direct = await setup().doctor([], { ...env, NO_PROXY: '.example.com,127.0.0.1' });
    assertNoErrors(direct);
    assert.match(findingLine(direct, 'ok', 'proxy', 'ck'), /HTTPS_PROXY is set, but 127\.0\.0\.1:\d+ goes direct/);
  });
});
