// Faults of the services the registry depends on, with the real services frozen (SIGSTOP on every
// process: the kernel still accepts connections, nothing answers, as in a network partition or a
// stuck failover). Two replicas on PostgreSQL and S3 (Swift): with PostgreSQL frozen, /readyz is a
// 503 that names the database on both, what needs the database is a prompt 503 that names it, and
// cached index files and tokens are still served; with S3 frozen, downloads and /readyz name the
// storage. After the thaw everything works again without a restart. Then an identity provider and
// an upstream registry that accept connections and never answer: 503s that name them.
// Every request has a client-side deadline that only detects a hang; no latency is asserted.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import type { HttpResult } from '../support/http-client.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { startSharedBackends, type SharedBackends } from '../support/shared-backends.js';
import { startSilentServer, type SilentServer } from '../support/silent-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

/** Longer than any dependency timeout of the defaults, far shorter than "forever". */
const HANG_MS = 20_000;

/** An HTTP request that fails the test when the server sends no complete answer within HANG_MS. */
function ask(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {}): Promise<HttpResult> {
  const method = options.method ?? 'GET';
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${method} ${url}: no answer within ${HANG_MS / 1000} s, the server hangs`));
    }, HANG_MS);
    req.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(options.body);
  });
}

const detailOf = (res: HttpResult) => (JSON.parse(res.body.toString()) as { errors: { detail: string }[] }).errors[0]!.detail;

/** Nothing a caller could use to find or probe the dependency, nor the driver's own words. */
function assertRevealsNothing(text: string, ports: number[]): void {
  for (const port of ports) assert.ok(!text.includes(String(port)), `the answer reveals port ${port}: ${text}`);
  assert.doesNotMatch(text, /127\.0\.0\.1|ECONN|ETIMEDOUT|socket|TimeoutError|PostgreSQL|Swift|s3 (open|put)|cratekeeper-test/i, text);
}

describe('dependency faults: two replicas on PostgreSQL and S3', () => {
  let backends: SharedBackends;
  let a: RunningRegistry;
  let b: RunningRegistry;
  let token: string;
  const replicas = () => [a, b];
  const index = (server: RunningRegistry, name: string) =>
    ask(`${server.url}/index/${indexPathOf(name)}`, { headers: { authorization: token } });
  const publishThrough = async (server: RunningRegistry, name: string, version: string) =>
    ask(`${server.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body: await publishBodyFor(name, version) });
  const download = (server: RunningRegistry, name: string, version: string) =>
    ask(`${server.url}/api/v1/crates/${name}/${version}/download`, { headers: { authorization: token } });
  const cacheHits = async (server: RunningRegistry) => {
    const metrics = (await ask(`${server.url}/metrics`)).body.toString();
    return Number(/^cratekeeper_index_cache_requests_total\{result="hit"\} (\d+)$/m.exec(metrics)?.[1]);
  };
  /** Until `name`'s index file is answered from the replica's memory. */
  const cachedOn = async (server: RunningRegistry, name: string) =>
    eventually(async () => {
      const hits = await cacheHits(server);
      assert.equal((await index(server, name)).status, 200);
      assert.ok((await cacheHits(server)) > hits, `${name} is not answered from the cache of ${server.url} yet`);
    });
  /**
   * Until each replica's change feed has passed every change made so far (and will drop no cached
   * file for them later): each serves a crate published through the other one after them, which
   * it had cached as missing, so only its feed can have told it.
   */
  const feedsCaughtUp = async () => {
    for (const server of replicas()) for (const name of ['sync-a', 'sync-b']) assert.equal((await index(server, name)).status, 404);
    assert.equal((await publishThrough(a, 'sync-a', '1.0.0')).status, 200);
    assert.equal((await publishThrough(b, 'sync-b', '1.0.0')).status, 200);
    await eventually(async () => assert.equal((await index(b, 'sync-a')).status, 200));
    await eventually(async () => assert.equal((await index(a, 'sync-b')).status, 200));
  };
  const readyz = async (server: RunningRegistry) => {
    const res = await ask(`${server.url}/readyz`);
    return { status: res.status, body: JSON.parse(res.body.toString()) as Record<string, string>, text: res.body.toString() };
  };

  before(async () => {
    backends = await startSharedBackends();
    const env = await backends.newRegistryEnv();
    a = await startRegistry({ env });
    b = await startRegistry({ env });
    token = a.adminToken!;
    const published = await publishThrough(a, 'steady', '1.0.0');
    assert.equal(published.status, 200, published.body.toString());
    await feedsCaughtUp();
    // Both replicas have the token, the index file and the version's blob key in their caches.
    for (const server of replicas()) {
      await cachedOn(server, 'steady');
      assert.equal((await download(server, 'steady', '1.0.0')).status, 200);
      assert.deepEqual((await readyz(server)).body, { status: 'ok', database: 'ok', storage: 'ok' });
    }
  });
  after(async () => {
    backends?.postgres.thaw();
    backends?.swift.thaw();
    for (const server of [a, b]) if (server) assert.equal(await server.stop(), 0, server.output());
    await backends?.stop();
  });

  it('PostgreSQL frozen: 503s that name the database, cached reads still served; all recovers after the thaw', async () => {
    const pgPort = backends.postgres.port;
    backends.postgres.freeze();
    try {
      const [readyA, readyB, uncached, published, cached, cachedB] = await Promise.all([
        readyz(a),
        readyz(b),
        index(b, 'not-cached-anywhere'),
        publishThrough(a, 'during-outage', '1.0.0'),
        index(a, 'steady'),
        index(b, 'steady'),
      ]);
      for (const ready of [readyA, readyB]) {
        assert.equal(ready.status, 503, ready.text);
        assert.deepEqual(ready.body, { status: 'unavailable', database: 'unreachable', storage: 'ok' });
        assertRevealsNothing(ready.text, [pgPort]);
      }
      for (const res of [uncached, published]) {
        assert.equal(res.status, 503, res.body.toString());
        assert.equal(detailOf(res), 'the database is not answering; try again shortly');
        assert.ok(Number(res.headers['retry-after']) > 0, 'no Retry-After on a 503');
        assertRevealsNothing(res.body.toString(), [pgPort]);
      }
      // Availability: an index file and a token already in memory need no database.
      assert.equal(cached.status, 200, cached.body.toString());
      assert.equal(cachedB.status, 200, cachedB.body.toString());
    } finally {
      backends.postgres.thaw();
    }

    for (const server of replicas()) {
      await eventually(async () => assert.equal((await readyz(server)).status, 200), HANG_MS);
    }
    const published = await publishThrough(a, 'after-outage', '1.0.0');
    assert.equal(published.status, 200, published.body.toString());
    // The other replica's change feed resumed: it drops its cached "no such crate".
    await eventually(async () => assert.equal((await index(b, 'after-outage')).status, 200), HANG_MS);
    assert.equal((await index(b, 'not-cached-anywhere')).status, 404);
    for (const server of replicas()) {
      assert.equal(server.child.exitCode, null, 'a replica exited');
      // The cause went to the log, for the operator: what the driver said after the detail.
      await eventually(() => assert.match(server.output(), /"message":"the database is not answering; try again shortly: [^"]+"/));
    }
  });

  it('S3 frozen: downloads and /readyz name the storage; all recovers after the thaw', async () => {
    const s3Port = Number(new URL(backends.swift.endpoint).port);
    backends.swift.freeze();
    try {
      const [res, ready] = await Promise.all([download(a, 'steady', '1.0.0'), readyz(b)]);
      assert.equal(res.status, 503, res.body.toString());
      assert.equal(detailOf(res), 'the storage is not answering; try again shortly');
      assert.ok(Number(res.headers['retry-after']) > 0, 'no Retry-After on a 503');
      assertRevealsNothing(res.body.toString(), [s3Port]);
      assert.equal(ready.status, 503, ready.text);
      assert.deepEqual(ready.body, { status: 'unavailable', database: 'ok', storage: 'unreachable' });
      assertRevealsNothing(ready.text, [s3Port]);
    } finally {
      backends.swift.thaw();
    }

    for (const server of replicas()) {
      await eventually(async () => assert.equal((await readyz(server)).status, 200), HANG_MS);
      const res = await download(server, 'steady', '1.0.0');
      assert.equal(res.status, 200, res.body.toString());
    }
    await eventually(() => assert.match(a.output(), /"message":"the storage is not answering; try again shortly: s3 open [^"]+"/));
  });
});

describe('dependency faults: an identity provider that never answers', () => {
  let idp: SilentServer;
  let provider: TestOidcProvider | undefined;
  let server: RunningRegistry;

  before(async () => {
    idp = await startSilentServer();
    const configFile = join(makeTempDir('cratekeeper-faults-'), 'cratekeeper.toml');
    writeFileSync(
      configFile,
      ['[oidc]', `issuer_url = "${idp.url}"`, 'client_id = "cratekeeper"', 'client_secret = "s3cret"', ''].join('\n'),
    );
    // The provider does not answer its discovery request: the registry starts all the same.
    server = await startRegistry({ args: ['--config', configFile] });
  });
  after(async () => {
    if (server) assert.equal(await server.stop(), 0, server.output());
    await provider?.stop();
    await idp?.close();
  });

  it('the sign-in start answers a 503 page naming the identity provider, and works once it answers', async () => {
    await eventually(() => assert.match(server.output(), /did not answer its discovery request/));
    const res = await ask(`${server.url}/me`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 503, res.body.toString());
    assert.match(String(res.headers['content-type']), /^text\/html/);
    const page = res.body.toString();
    assert.match(page, /the identity provider is not answering; try again shortly/);
    assert.ok(!page.includes(String(idp.port)), 'the page reveals the provider address');

    // The provider comes back (behind the same address): the next sign-in discovers it.
    provider = await startOidcProvider({}, { issuer: idp.url });
    idp.forwardTo(provider.port);
    await eventually(async () => {
      const start = await ask(`${server.url}/me`, { headers: { accept: 'text/html' } });
      assert.equal(start.status, 302, start.body.toString());
      assert.ok(String(start.headers.location).startsWith(`${idp.url}/`), String(start.headers.location));
    }, HANG_MS);
  });
});

// Verification of the mirror's own deadline (upstreams.N.timeout_ms, src/mirror/upstream-http.ts).
describe('dependency faults: an upstream registry that never answers', () => {
  let upstream: SilentServer;
  let server: RunningRegistry;

  before(async () => {
    upstream = await startSilentServer();
    server = await startRegistry({
      env: {
        CRATEKEEPER_UPSTREAMS__0__NAME: 'stuck',
        CRATEKEEPER_UPSTREAMS__0__INDEX_URL: `sparse+${upstream.url}/index/`,
        CRATEKEEPER_UPSTREAMS__0__TIMEOUT_MS: '2000',
      },
    });
  });
  after(async () => {
    if (server) assert.equal(await server.stop(), 0, server.output());
    await upstream?.close();
  });

  it('a mirrored index read answers a 503 naming the upstream', async () => {
    const res = await ask(`${server.url}/mirrors/stuck/index/${indexPathOf('serde')}`, { headers: { authorization: server.adminToken! } });
    assert.equal(res.status, 503, res.body.toString());
    assert.match(detailOf(res), /upstream `stuck`/);
  });
});
