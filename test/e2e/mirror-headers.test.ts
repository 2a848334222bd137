// Per-operation extra headers against a real upstream that tells them apart: Debian's nginx serving
// a static sparse index, requiring `X-Index-Key` under /index/ and `X-Download-Key` under /crates/
// (401 otherwise). Through a mirror configured with `headers.index` and `headers.download`, the real
// cargo builds; with the headers swapped or a wrong download key, nginx refuses and the mirror says
// so. The client toolkit's per-operation rules (by URL path prefix in auth.toml) are driven the same
// way through `cratekeeper proxy`, with cargo reading the plain-http index through it.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { CargoSandbox } from '../support/cargo.js';
import { ensureDebianPackages } from '../support/apt.js';
import { closureOf, readDebianCrates, type DebianCrate } from '../support/debian-crates.js';
import { errorDetail, httpRequest } from '../support/http-client.js';
import { writeStaticIndex } from '../support/mirror-upstreams.js';
import { startNginx, type RunningNginx } from '../support/nginx-server.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { startProxyProcess, type RunningProxyProcess } from '../client/helpers.js';

const INDEX_KEY = 'index-key-5b1e';
const DOWNLOAD_KEY = 'download-key-c37a';
const ITOA_APP = 'fn main() { println!("{}", itoa::Buffer::new().format(42)); }\n';

describe('per-operation extra headers', () => {
  let crates: DebianCrate[];
  let itoa: DebianCrate;
  let nginx: RunningNginx;
  let mirror: RunningRegistry;
  let proxy: RunningProxyProcess | undefined;
  const work = makeTempDir('cratekeeper-mirror-headers-');

  const cargoFor = (upstream: string) => {
    const cargo = new CargoSandbox('ck');
    cargo.configure(`${mirror.url}/mirrors/${upstream}/index/`, '[source.crates-io]\nreplace-with = "ck"\n');
    return cargo;
  };
  const cargoEnv = () => ({ CARGO_REGISTRIES_CK_TOKEN: mirror.adminToken! });
  const auth = () => ({ authorization: mirror.adminToken! });

  before(async () => {
    ensureDebianPackages(['librust-itoa-dev']);
    crates = closureOf(['itoa'], readDebianCrates());
    itoa = crates.find((c) => c.name === 'itoa')!;
    const root = makeTempDir('cratekeeper-keyed-index-');
    nginx = await startNginx({
      root,
      prepare: (url) => writeStaticIndex(root, url, crates),
      serverConfig: `
    location /index/ { if ($http_x_index_key != "${INDEX_KEY}") { return 401; } }
    location /crates/ { if ($http_x_download_key != "${DOWNLOAD_KEY}") { return 401; } }`,
    });
    const upstream = (name: string, index: Record<string, string>, download: Record<string, string>) => `
[[upstreams]]
name = "${name}"
index_url = "${nginx.url}/index/"
index_ttl_seconds = 0
timeout_ms = 5000
headers.index = { ${Object.entries(index)
      .map(([k, v]) => `"${k}" = "${v}"`)
      .join(', ')} }
headers.download = { ${Object.entries(download)
      .map(([k, v]) => `"${k}" = "${v}"`)
      .join(', ')} }
`;
    const configFile = join(work, 'cratekeeper.toml');
    writeFileSync(
      configFile,
      upstream('keyed', { 'X-Index-Key': INDEX_KEY }, { 'X-Download-Key': DOWNLOAD_KEY }) +
        upstream('swapped', { 'X-Download-Key': DOWNLOAD_KEY }, { 'X-Index-Key': INDEX_KEY }) +
        upstream('wrong-download', { 'X-Index-Key': INDEX_KEY }, { 'X-Download-Key': 'not-the-key' }),
    );
    mirror = await startRegistry({ args: ['--config', configFile], env: { CRATEKEEPER_LOG__LEVEL: 'info' } });
  });

  after(async () => {
    await proxy?.stop();
    await mirror?.stop();
    await nginx?.stop();
  });

  it('the upstream refuses requests without its keys', async () => {
    for (const path of ['/index/config.json', `/index/${indexPathOf('itoa')}`, `/crates/itoa/${itoa.version}.crate`]) {
      assert.equal((await httpRequest(`${nginx.url}${path}`)).status, 401, path);
    }
    // The index key does not open the crates, nor the download key the index.
    assert.equal(
      (await httpRequest(`${nginx.url}/crates/itoa/${itoa.version}.crate`, { headers: { 'x-index-key': INDEX_KEY } })).status,
      401,
    );
    assert.equal((await httpRequest(`${nginx.url}/index/config.json`, { headers: { 'x-download-key': DOWNLOAD_KEY } })).status, 401);
  });

  it('headers.index and headers.download: cargo builds through the mirror', async () => {
    const before = nginx.accessLog().length;
    const cargo = cargoFor('keyed');
    const app = cargo.createApp('keyed', ['itoa = "1"'], ITOA_APP);
    const run = await cargo.run(['run', '-q'], { cwd: app, env: cargoEnv() });
    assert.equal(run.code, 0, `${run.stderr}\n${mirror.output()}`);
    assert.equal(run.stdout.trim(), '42');
    const seen = nginx.accessLog().slice(before);
    for (const line of [
      'GET /index/config.json 200',
      `GET /index/${indexPathOf('itoa')} 200`,
      `GET /crates/itoa/${itoa.version}.crate 200`,
    ]) {
      assert.ok(seen.includes(line), `${line} missing from:\n${seen.join('\n')}`);
    }
    assert.ok(!seen.some((l) => l.endsWith(' 401')), seen.join('\n'));
  });

  it('with the headers swapped, the upstream refuses the index and the mirror says why', async () => {
    const before = nginx.accessLog().length;
    const answer = await httpRequest(`${mirror.url}/mirrors/swapped/index/${indexPathOf('itoa')}`, { headers: auth() });
    assert.equal(answer.status, 503);
    assert.match(errorDetail(answer), /upstream `swapped` answered 401 for .*check the upstream credentials/);
    assert.deepEqual(nginx.accessLog().slice(before), [`GET /index/${indexPathOf('itoa')} 401`]);
  });

  it('with a wrong download key, the index is read but the .crate is refused', async () => {
    const line = await httpRequest(`${mirror.url}/mirrors/wrong-download/index/${indexPathOf('itoa')}`, { headers: auth() });
    assert.equal(line.status, 200);
    const before = nginx.accessLog().length;
    const download = await httpRequest(`${mirror.url}/mirrors/wrong-download/crates/itoa/${itoa.version}/download`, { headers: auth() });
    assert.equal(download.status, 503);
    assert.match(
      errorDetail(download),
      new RegExp(`upstream \`wrong-download\` answered 401 for itoa@${itoa.version.replaceAll('.', '\\.')}`),
    );
    assert.ok(
      nginx.accessLog().slice(before).includes(`GET /crates/itoa/${itoa.version}.crate 401`),
      nginx.accessLog().slice(before).join('\n'),
    );

    const cargo = cargoFor('wrong-download');
    const app = cargo.createApp('wrong-download', ['itoa = "1"'], ITOA_APP);
    const run = await cargo.run(['fetch'], { cwd: app, env: cargoEnv() });
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /503/);
  });

  it('cratekeeper proxy: auth.toml operations by path prefix send each key only where it belongs', async () => {
    // The .netrc holds both keys: the index key as the password, the download key as the login.
    const netrc = join(work, 'netrc');
    writeFileSync(netrc, `machine 127.0.0.1:${nginx.port} login ${DOWNLOAD_KEY} password ${INDEX_KEY}\n`, { mode: 0o600 });
    const authToml = join(work, 'auth.toml');
    writeFileSync(
      authToml,
      [
        `[hosts."127.0.0.1:${nginx.port}".operations.index]`,
        'path_prefix = "/index/"',
        'header = "X-Index-Key"',
        'auth = "<password>"',
        `[hosts."127.0.0.1:${nginx.port}".operations.download]`,
        'path_prefix = "/crates/"',
        'header = "X-Download-Key"',
        'auth = "<login>"',
        '',
      ].join('\n'),
    );
    const caDir = join(work, 'proxy-ca');
    const init = await runCli(['proxy', 'init-ca', '--ca-dir', caDir, '--auth-config', authToml]);
    assert.equal(init.code, 0, init.stderr);
    proxy = await startProxyProcess(['--netrc', netrc, '--auth-config', authToml, '--ca-dir', caDir]);

    const before = nginx.accessLog().length;
    const cargo = new CargoSandbox('static');
    writeFileSync(
      join(cargo.cargoHome, 'config.toml'),
      `[registries.static]\nindex = "sparse+${nginx.url}/index/"\n\n[source.crates-io]\nreplace-with = "static"\n\n[http]\nproxy = "${proxy.address}"\n\n[net]\nretry = 0\n`,
    );
    const app = cargo.createApp('via-auth-proxy', ['itoa = "1"'], ITOA_APP);
    const run = await cargo.run(['run', '-q'], { cwd: app, env: { NO_PROXY: '', no_proxy: '' } });
    assert.equal(run.code, 0, `${run.stderr}\nproxy:\n${proxy.stderr()}`);
    assert.equal(run.stdout.trim(), '42');
    const seen = nginx.accessLog().slice(before);
    assert.ok(seen.includes(`GET /index/${indexPathOf('itoa')} 200`), seen.join('\n'));
    assert.ok(seen.includes(`GET /crates/itoa/${itoa.version}.crate 200`), seen.join('\n'));
    assert.ok(!seen.some((l) => l.endsWith(' 401')), seen.join('\n'));
  });
});
