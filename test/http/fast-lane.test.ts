// The lean path for index and download GETs (src/http/fast-lane.ts) must answer exactly as the
// fastify routes do. Two servers over one registry, one with the lean path and one without, get
// the same requests (every token case, hidden and missing crates, odd paths, validators, gzip,
// HEAD, other methods, a policy-refused download, query strings); each pair must give the same
// status, headers (but the date) and body, and record the same audit events and /metrics counts.

import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { generateToken } from '../../src/domain/token.js';
import { buildApp } from '../../src/http/app.js';
import type { AuditEvent } from '../../src/ports/audit-log.js';
import { Agent, request as httpGet } from 'node:http';
import { type HttpResult } from '../support/http-client.js';
import { eventually } from '../support/eventually.js';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';

const HOUR = 3_600_000;
const REFUSED = new Set(['narrow', 'expired', 'garbage', 'unknown']);
// A parameter longer than fastify's maxParamLength: fastify answers it before routing, and /metrics
// does not count it (nor, then, does the lean path, which leaves it to fastify).
const TOO_LONG = `/api/v1/crates/lane_crate/${'9'.repeat(101)}/download`;

interface Server {
  app: FastifyInstance;
  url: string;
  /** The requests that reached fastify's routing. */
  reachedFastify: string[];
}

async function listen(r: TestRegistry, fastLane: boolean): Promise<Server> {
  const app = buildApp(r.registry, { publicUrl: () => PUBLIC_URL, logger: false, fastLane });
  const reachedFastify: string[] = [];
  const seen = new Set<string>();
  const spy = (request: FastifyRequest) => {
    if (seen.has(request.id)) return;
    seen.add(request.id);
    reachedFastify.push(`${request.method} ${request.url}`);
  };
  // Hooks added here reach the routes only through onRoute (the route groups are plugins that copied
  // the root's hooks already); the root's own hook sees what no route matches.
  app.addHook('onRequest', (request, _reply, done) => {
    spy(request);
    done();
  });
  app.addHook('onRoute', (route) => {
    const own = route.onResponse === undefined ? [] : Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse];
    route.onResponse = [
      (request: FastifyRequest, _reply: unknown, done: () => void) => {
        spy(request);
        done();
      },
      ...own,
    ] as typeof route.onResponse;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, reachedFastify };
}

/** The counters of /metrics (durations left out: they differ from one request to the next). */
async function counters(r: TestRegistry): Promise<Map<string, number>> {
  const lines = (await r.registry.metrics.render()).split('\n').filter((l) => /^cratekeeper_\w+_total\{/.test(l));
  return new Map(lines.map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]));
}

/** Requests answered so far, as /metrics counts them. */
function answered(counts: Map<string, number>): number {
  let sum = 0;
  for (const [key, value] of counts) if (key.startsWith('cratekeeper_http_requests_total{')) sum += value;
  return sum;
}

// Keep-alive, as cargo: a client that closes first can make a server miss a response's `finish`.
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

/** A request with its path exactly as given (`new URL` would resolve `..` and `%2e%2e`). */
function rawRequest(base: string, path: string, method: string, headers: Record<string, string>): Promise<HttpResult> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpGet({ hostname, port, path, method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const changed: Record<string, number> = {};
  for (const [key, value] of after) if (value !== (before.get(key) ?? 0)) changed[key] = value - (before.get(key) ?? 0);
  return changed;
}

describe('the lean path answers index and download requests as the fastify routes do', () => {
  let now = Date.now();
  let r: TestRegistry;
  let lane: Server;
  let plain: Server;
  const tokens: Record<string, string | undefined> = {};
  let etag = '';
  const heard: AuditEvent[] = [];

  before(async () => {
    r = await startTestRegistry(
      // Enough failed checks per minute that no pair of requests crosses the limit between its two halves.
      { 'rate_limits.failed_auth_per_minute': '100000' },
      '[[access.rules]]\ncrates = ["hidden"]\nread = ["admin"]\n',
      { now: () => now },
    );
    for (const version of ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0', '1.5.0']) await r.publishAsAdmin('Lane_Crate', version);
    await r.publishAsAdmin('hidden', '1.0.0');
    const hold = await r.request({
      method: 'POST',
      url: '/api/v1/admin/policy/exceptions',
      token: r.adminToken,
      payload: { kind: 'hold', crate: 'lane_crate@1.5.0', reason: 'bad release' },
    });
    assert.equal(hold.statusCode, 201, hold.body);
    await r.userToken('alice');
    const accounts = r.registry.accounts;
    tokens.none = undefined;
    tokens.admin = r.adminToken;
    tokens.bearer = `Bearer ${r.adminToken}`;
    tokens.alice = (await accounts.createToken('alice', 'reads')).token;
    tokens.narrow = (await accounts.createToken('alice', 'publish only', { scopes: ['publish-update'] })).token;
    const expiring = (await accounts.createToken('alice', 'soon expired', { expiresAt: new Date(now + HOUR) })).token;
    tokens.garbage = 'not-a-token';
    tokens.unknown = generateToken();
    lane = await listen(r, true);
    plain = await listen(r, false);
    // Every token seen once, so that both servers decide it from memory (the lean path's case).
    for (const token of [...Object.values(tokens), expiring]) {
      await rawRequest(plain.url, '/index/config.json', 'GET', token ? { authorization: token } : {});
    }
    now += 2 * HOUR;
    tokens.expired = expiring;
    const file = await rawRequest(plain.url, '/index/la/ne/lane_crate', 'GET', { authorization: r.adminToken });
    assert.equal(file.status, 200);
    etag = file.headers.etag as string;
    r.registry.audit.listen((event) => heard.push(event));
  });
  after(async () => {
    await lane.app.close();
    await plain.app.close();
    await r.close();
    agent.destroy();
  });

  async function observe(url: string, path: string, method: string, headers: Record<string, string>) {
    const countsBefore = await counters(r);
    heard.length = 0;
    const requestsBefore = answered(countsBefore);
    const answer = await rawRequest(url, path, method, headers);
    // The server counts a request when its last bytes are handed to the kernel: maybe after the client has them.
    await eventually(
      async () =>
        assert.equal(
          answered(await counters(r)),
          requestsBefore + (path === TOO_LONG && method !== 'OPTIONS' && method !== 'POST' ? 0 : 1),
          `${method} ${url}${path} counted`,
        ),
      3_000,
      2,
    );
    const events = heard.map(({ at: _at, ...event }) => event);
    return { answer, events, counts: delta(countsBefore, await counters(r)) };
  }

  function comparable(result: HttpResult) {
    const { date: _date, ...headers } = result.headers;
    return { status: result.status, headers, body: result.body.toString('base64') };
  }

  const paths = [
    '/index/config.json',
    '/index/config.json?x=1',
    '/index/la/ne/lane_crate',
    '/index/la/ne/lane_crate?cache=bust',
    '/index/la/ne/Lane_Crate',
    '/index/hi/dd/hidden',
    '/index/no/su/nosuchcrate',
    '/index/',
    '/index/../x',
    '/index/%2e%2e/x',
    '/index/la/ne/%6cane_crate',
    '/index//la/ne/lane_crate',
    '/api/v1/crates/lane_crate/1.0.0/download',
    '/api/v1/crates/Lane-Crate/1.0.0/download?x=1',
    '/api/v1/crates/lane_crate/1.5.0/download',
    '/api/v1/crates/lane_crate/9.9.9/download',
    '/api/v1/crates/hidden/1.0.0/download',
    '/api/v1/crates/no-such/1.0.0/download',
    '/api/v1/crates/lane_crate/1.0.0/download/',
    TOO_LONG,
  ];
  const variants = (): Record<string, Record<string, string>> => ({
    plain: {},
    revalidate: { 'if-none-match': etag },
    any: { 'if-none-match': '*' },
    gzip: { 'accept-encoding': 'gzip, br' },
  });

  for (const tokenName of ['none', 'admin', 'bearer', 'alice', 'narrow', 'expired', 'garbage', 'unknown']) {
    it(`answers alike with ${tokenName === 'none' ? 'no token' : `the ${tokenName} token`}`, async () => {
      const methods = tokenName === 'admin' || tokenName === 'none' ? ['GET', 'HEAD', 'OPTIONS', 'POST'] : ['GET', 'HEAD'];
      let compared = 0;
      for (const path of paths) {
        for (const method of methods) {
          // A refused token is refused alike whatever the validators: one variant is enough there.
          const cases = Object.entries(variants()).slice(0, REFUSED.has(tokenName) ? 1 : undefined);
          for (const [variant, extra] of cases) {
            const token = tokens[tokenName];
            const headers = { ...(token ? { authorization: token } : {}), 'user-agent': 'fast-lane-test', ...extra };
            // Once before, so that both see the caches as they will be (a first lookup misses).
            await observe(plain.url, path, method, headers);
            const viaLane = await observe(lane.url, path, method, headers);
            const viaFastify = await observe(plain.url, path, method, headers);
            const what = `${method} ${path} (${variant})`;
            assert.deepEqual(comparable(viaLane.answer), comparable(viaFastify.answer), what);
            assert.deepEqual(viaLane.events, viaFastify.events, `${what}: audit events`);
            assert.deepEqual(viaLane.counts, viaFastify.counts, `${what}: /metrics counters`);
            compared++;
          }
        }
      }
      assert.equal(compared, paths.length * methods.length * (REFUSED.has(tokenName) ? 1 : 4));
    });
  }

  it('takes the requests it is for, leaves the others to fastify, and counts them under the routes fastify names', async () => {
    // Not implied by the comparisons above: the lean path must really answer these.
    const headers = { authorization: r.adminToken };
    lane.reachedFastify.length = 0;
    const file = await observe(lane.url, '/index/la/ne/lane_crate', 'GET', headers);
    const head = await observe(lane.url, '/index/la/ne/lane_crate?x=1', 'HEAD', { ...headers, 'if-none-match': etag });
    const config = await observe(lane.url, '/index/config.json', 'GET', headers);
    const download = await observe(lane.url, '/api/v1/crates/lane_crate/1.0.0/download', 'GET', headers);
    const missing = await observe(lane.url, '/index/no/su/nosuchcrate', 'GET', headers);
    assert.deepEqual(lane.reachedFastify, []);
    assert.equal(missing.answer.status, 404);
    const counted = (route: string, method: string, status: number) =>
      `cratekeeper_http_requests_total{route="${route}",method="${method}",status="${status}"}`;
    assert.equal(file.counts[counted('/index/*', 'GET', 200)], 1);
    assert.equal(head.counts[counted('/index/*', 'HEAD', 304)], 1);
    assert.equal(config.counts[counted('/index/config.json', 'GET', 200)], 1);
    assert.equal(download.counts[counted('/api/v1/crates/:name/:version/download', 'GET', 200)], 1);

    await observe(lane.url, '/index/la/ne/lane_crate', 'OPTIONS', headers);
    await observe(lane.url, '/index/la/ne/lane_crate', 'GET', {});
    await observe(lane.url, '/index/%2e%2e/x', 'GET', headers);
    // A path that is not a well-formed index path (upper case, directories of another name).
    await observe(lane.url, '/index/la/ne/Lane_Crate', 'GET', headers);
    await observe(lane.url, '/index/xx/yy/lane_crate', 'GET', headers);
    // A download that fails after the lean path took it is answered by fastify's error handler.
    await observe(lane.url, '/api/v1/crates/lane_crate/9.9.9/download', 'GET', headers);
    assert.deepEqual(lane.reachedFastify, [
      'OPTIONS /index/la/ne/lane_crate',
      'GET /index/la/ne/lane_crate',
      'GET /index/%2e%2e/x',
      'GET /index/la/ne/Lane_Crate',
      'GET /index/xx/yy/lane_crate',
      'GET /api/v1/crates/lane_crate/9.9.9/download',
    ]);
  });

  it('refuses a token revoked while the connection that sent it stays open', async () => {
    // The token check remembers a connection's last header (token-authenticator.ts): a revocation
    // must reach that connection's next request, on the lean path, without a new connection.
    const { token, record } = await r.registry.accounts.createToken('alice', 'revoked while connected');
    const own = new Agent({ keepAlive: true, maxSockets: 1 });
    const { hostname, port } = new URL(lane.url);
    const read = () =>
      new Promise<{ status: number; reusedSocket: boolean }>((resolve, reject) => {
        const req = httpGet({ hostname, port, path: '/index/la/ne/lane_crate', headers: { authorization: token }, agent: own }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, reusedSocket: req.reusedSocket }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
    try {
      assert.equal((await read()).status, 200, 'looked up by fastify');
      lane.reachedFastify.length = 0;
      assert.deepEqual(await read(), { status: 200, reusedSocket: true });
      assert.deepEqual(lane.reachedFastify, [], 'answered by the lean path');
      await r.registry.accounts.revokeToken(record.id);
      await eventually(async () => assert.deepEqual(await read(), { status: 401, reusedSocket: true }));
    } finally {
      own.destroy();
    }
  });

  it('hands a download whose file fails before its first byte to fastify, which answers 500 without the file headers', async () => {
    await r.publishAsAdmin('broken', '1.0.0');
    const blob = await r.registry.metadata.crates.findVersionBlob('broken', '1.0.0');
    const file = join(r.dataDir, 'blobs', blob!.blobKey);
    rmSync(file);
    mkdirSync(file); // found and opened, then its first read fails (EISDIR)
    for (const server of [lane, plain]) {
      const { answer, counts } = await observe(server.url, '/api/v1/crates/broken/1.0.0/download', 'GET', { authorization: r.adminToken });
      assert.equal(answer.status, 500, server.url);
      assert.match(JSON.parse(answer.body.toString()).errors[0].detail, /^internal server error/);
      assert.equal(answer.headers.etag, undefined);
      assert.equal(answer.headers['cache-control'], undefined);
      assert.equal(counts['cratekeeper_http_requests_total{route="/api/v1/crates/:name/:version/download",method="GET",status="500"}'], 1);
    }
  });
});
