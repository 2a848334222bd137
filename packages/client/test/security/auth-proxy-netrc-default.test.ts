// The auth proxy injects credentials only for the hosts auth.toml names, and the .netrc `default`
// entry only for a named host that opts in (use_netrc_default = true): a host the user never named,
// or named without the opt-in, sees no Authorization header through the proxy. The proxy runs in
// process; the origins are plain-http recorders on 127.0.0.1.

import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAuthConfig } from '../../src/auth-config.js';
import { startAuthProxy, type RunningProxy } from '../../src/auth-proxy.js';
import { CredentialResolver } from '../../src/credential-resolver.js';
import { parseNetrc } from '../../src/netrc-parse.js';
import { caPaths, initCa, loadCa } from '../../src/proxy-ca-store.js';
import { makeConnector } from '../../src/upstream-connector.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

interface Origin {
  server: Server;
  port: number;
  seen: Array<string | undefined>;
}

async function recorder(): Promise<Origin> {
  const seen: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers.authorization);
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

function viaProxy(proxy: RunningProxy, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request({ host: proxy.host, port: proxy.port, path: url, headers: { host: target.host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('auth proxy: credentials only for named hosts, the default entry only where opted in', () => {
  let listedWithout: Origin;
  let optedIn: Origin;
  let unlisted: Origin;
  let proxy: RunningProxy;
  const logLines: string[] = [];

  before(async () => {
    [listedWithout, optedIn, unlisted] = await Promise.all([recorder(), recorder(), recorder()]);
    const config = parseAuthConfig(
      [
        `[hosts."127.0.0.1:${listedWithout.port}"]`,
        'auth = "bearer"',
        `[hosts."127.0.0.1:${optedIn.port}"]`,
        'auth = "bearer"',
        'use_netrc_default = true',
        '',
      ].join('\n'),
    );
    const netrc = parseNetrc('default login anon password default-secret\n');
    const paths = caPaths(join(makeTempDir(), 'ca'));
    await initCa(paths, ['127.0.0.1']);
    proxy = await startAuthProxy(
      {
        resolver: new CredentialResolver({ config, netrc }),
        ca: loadCa(paths),
        connector: makeConnector(undefined),
        trust: undefined,
        log: (l) => logLines.push(l),
      },
      '127.0.0.1',
      0,
    );
  });

  after(async () => {
    await proxy?.close();
    for (const o of [listedWithout, optedIn, unlisted]) o?.server.close();
  });

  it('sends the default entry to the opted-in host only', async () => {
    assert.equal(await viaProxy(proxy, `http://127.0.0.1:${optedIn.port}/index/config.json`), 200);
    assert.equal(await viaProxy(proxy, `http://127.0.0.1:${listedWithout.port}/index/config.json`), 200);
    assert.equal(await viaProxy(proxy, `http://127.0.0.1:${unlisted.port}/index/config.json`), 200);
    assert.deepEqual(optedIn.seen, ['Bearer default-secret']);
    assert.deepEqual(listedWithout.seen, [undefined], 'a listed host without use_netrc_default got the default entry');
    assert.deepEqual(unlisted.seen, [undefined], 'an unlisted host got credentials');
    assert.ok(
      logLines.some((l) => l.includes(`127.0.0.1:${listedWithout.port}: no credentials configured`)),
      logLines.join('\n'),
    );
    assert.ok(!logLines.join('\n').includes('default-secret'), 'the log shows the secret');
  });
});
