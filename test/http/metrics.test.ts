// GET /metrics: Prometheus text that parses, counters that move with requests, route patterns (never
// raw URLs or tokens) as labels, and the optional `metrics.token` restriction.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (0.0.4), failing on any line that does not fit it. */
function parsePrometheus(text: string): { samples: Sample[]; types: Map<string, string> } {
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline');
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
      assert.ok(m, `bad comment line: ${line}`);
      if (m[1] === 'TYPE') {
        assert.match(m[3]!, /^(counter|gauge|histogram|summary|untyped)$/, line);
        assert.ok(!types.has(m[2]!), `TYPE given twice for ${m[2]}`);
        types.set(m[2]!, m[3]!);
      }
      continue;
    }
    const m = sampleLine.exec(line);
    assert.ok(m, `bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[2] !== undefined && m[2] !== '') {
      labelPair.lastIndex = 0;
      while (labelPair.lastIndex < m[2].length) {
        const pair = labelPair.exec(m[2]);
        assert.ok(pair, `bad labels in: ${line}`);
        assert.ok(!(pair[1]! in labels), `label ${pair[1]} twice in: ${line}`);
        labels[pair[1]!] = pair[2]!;
      }
    }
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    // Prometheus parses values with Go's ParseFloat, which takes NaN in any case (prom-client writes `Nan`).
    assert.ok(/^nan$/i.test(m[3]!) || !Number.isNaN(value), `bad value in: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
const valueOf = (samples: Sample[], name: string, labels: Record<string, string> = {}) => {
  const found = find(samples, name, labels);
  assert.equal(found.length, 1, `one sample ${name} ${JSON.stringify(labels)}, found ${found.length}`);
  return found[0]!.value;
};

describe('/metrics', () => {
  let r: TestRegistry;
  const scrape = async () => {
    const res = await r.request({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
    return { body: res.body, ...parsePrometheus(res.body) };
  };

  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.close());

  it('needs no token by default and parses as Prometheus text, with the process metrics', async () => {
    const { samples, types } = await scrape();
    assert.equal(types.get('cratekeeper_http_requests_total'), 'counter');
    assert.equal(types.get('cratekeeper_http_request_duration_seconds'), 'histogram');
    assert.equal(types.get('cratekeeper_publishes_total'), 'counter');
    assert.equal(types.get('cratekeeper_auth_failures_total'), 'counter');
    assert.equal(types.get('cratekeeper_index_cache_requests_total'), 'counter');
    assert.ok(find(samples, 'process_cpu_user_seconds_total').length === 1);
    assert.ok(find(samples, 'nodejs_heap_size_used_bytes').length === 1);
    assert.ok(find(samples, 'process_resident_memory_bytes').length === 1);
  });

  it('counts requests by route pattern and status, publishes, cache hits and misses, and auth failures by reason', async () => {
    const before = (await scrape()).samples;
    const token = r.adminToken;
    assert.equal(
      (await r.request({ method: 'PUT', url: '/api/v1/crates/new', token, payload: await publishBodyFor('metered', '1.0.0') })).statusCode,
      200,
    );
    for (let i = 0; i < 3; i++) assert.equal((await r.request({ method: 'GET', url: '/index/me/te/metered', token })).statusCode, 200);
    assert.equal((await r.request({ method: 'GET', url: '/index/un/kn/unknown-crate', token })).statusCode, 404);
    assert.equal((await r.request({ method: 'GET', url: '/no/such/path?token=query-secret', token })).statusCode, 404);
    // missing, rejected and scope
    assert.equal((await r.request({ method: 'GET', url: '/index/me/te/metered' })).statusCode, 401);
    const wrong = 'ckt_not-a-real-token-but-secret-looking';
    assert.equal((await r.request({ method: 'GET', url: '/index/me/te/metered', token: wrong })).statusCode, 401);
    const publishOnly = (await r.registry.accounts.createToken('admin', 'publish only', { scopes: ['publish-update'] })).token;
    assert.equal((await r.request({ method: 'GET', url: '/index/me/te/metered', token: publishOnly })).statusCode, 403);

    const { samples, body } = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      valueOf(samples, name, labels) - (find(before, name, labels)[0]?.value ?? 0);
    const index200 = { route: '/index/*', method: 'GET', status: '200' };
    assert.equal(delta('cratekeeper_http_requests_total', index200), 3);
    assert.equal(delta('cratekeeper_http_requests_total', { route: '/index/*', method: 'GET', status: '404' }), 1);
    assert.equal(delta('cratekeeper_http_requests_total', { route: '/index/*', method: 'GET', status: '401' }), 2);
    assert.equal(delta('cratekeeper_http_requests_total', { route: '/index/*', method: 'GET', status: '403' }), 1);
    assert.equal(delta('cratekeeper_http_requests_total', { route: '/api/v1/crates/new', method: 'PUT', status: '200' }), 1);
    assert.equal(delta('cratekeeper_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }), 1);
    assert.equal(delta('cratekeeper_publishes_total'), 1);
    assert.equal(delta('cratekeeper_auth_failures_total', { reason: 'missing' }), 1);
    assert.equal(delta('cratekeeper_auth_failures_total', { reason: 'rejected' }), 1);
    assert.equal(delta('cratekeeper_auth_failures_total', { reason: 'scope' }), 1);
    // The first read of each crate renders it (miss), later reads come from the cache (hit).
    assert.equal(delta('cratekeeper_index_cache_requests_total', { result: 'miss' }), 2);
    assert.equal(delta('cratekeeper_index_cache_requests_total', { result: 'hit' }), 2);

    // The histogram: cumulative buckets ending in +Inf, equal to the count.
    const buckets = find(samples, 'cratekeeper_http_request_duration_seconds_bucket', index200);
    assert.ok(buckets.length > 5);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
    assert.equal(buckets.at(-1)!.labels.le, '+Inf');
    assert.equal(buckets.at(-1)!.value, valueOf(samples, 'cratekeeper_http_request_duration_seconds_count', index200));
    assert.ok(valueOf(samples, 'cratekeeper_http_request_duration_seconds_sum', index200) > 0);

    // Labels are route patterns and statuses: no raw path, query, crate name or token anywhere.
    for (const secret of [r.adminToken, wrong, publishOnly, 'query-secret', '/no/such/path', 'metered', 'unknown-crate']) {
      assert.ok(!body.includes(secret), `the metrics must not contain ${secret}`);
    }
    const routes = new Set(find(samples, 'cratekeeper_http_requests_total').map((s) => s.labels.route));
    for (const route of routes) assert.ok(route === 'unmatched' || route!.startsWith('/'), route);
  });
});

describe('/metrics and a crate hidden by an access rule', () => {
  let r: TestRegistry;
  let eve: string;
  before(async () => {
    r = await startTestRegistry({}, '[[access.rules]]\ncrates = ["secret*"]\nread = ["admin"]\n');
    await r.registry.accounts.addUser('eve', false);
    eve = (await r.registry.accounts.createToken('eve', 'laptop')).token;
    const token = r.adminToken;
    await r.request({ method: 'PUT', url: '/api/v1/crates/new', token, payload: await publishBodyFor('secret-core', '1.0.0') });
    // Its readers keep it in the index cache.
    assert.equal((await r.request({ method: 'GET', url: '/index/se/cr/secret-core', token })).statusCode, 200);
  });
  after(() => r.close());

  /** How the index cache's counters move with Eve's read of `path`, which must be a 404. */
  const cacheCounts = async (path: string) => {
    const counts = async () => {
      const { samples } = parsePrometheus((await r.request({ method: 'GET', url: '/metrics' })).body);
      return [
        valueOf(samples, 'cratekeeper_index_cache_requests_total', { result: 'hit' }),
        valueOf(samples, 'cratekeeper_index_cache_requests_total', { result: 'miss' }),
      ];
    };
    const [hits, misses] = await counts();
    assert.equal((await r.request({ method: 'GET', url: path, token: eve })).statusCode, 404);
    const [hitsAfter, missesAfter] = await counts();
    return { hits: hitsAfter! - hits!, misses: missesAfter! - misses! };
  };

  it('moves the index cache counters for a cached hidden crate as for a name that does not exist', async () => {
    for (const round of ['first', 'second']) {
      const hidden = await cacheCounts('/index/se/cr/secret-core');
      const unknown = await cacheCounts('/index/se/cr/secret-cave');
      assert.deepEqual(hidden, unknown, `${round} read`);
    }
    assert.deepEqual(await cacheCounts('/index/se/cr/secret-core'), { hits: 1, misses: 0 });
    // The readers still get the crate, from the cache.
    assert.equal((await r.request({ method: 'GET', url: '/index/se/cr/secret-core', token: r.adminToken })).statusCode, 200);
  });

  it('after a publish, reads it again as it reads an unknown name again', async () => {
    await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: r.adminToken,
      payload: await publishBodyFor('secret-core', '1.1.0'),
    });
    assert.deepEqual(await cacheCounts('/index/se/cr/secret-core'), { hits: 0, misses: 1 });
  });
});

describe('/metrics with metrics.token', () => {
  let r: TestRegistry;
  const scrapeToken = 'prometheus-scrape-secret';
  before(async () => {
    r = await startTestRegistry({ 'metrics.token': scrapeToken });
  });
  after(() => r.close());

  it('refuses a scrape without the token, with a wrong one, and with a registry token', async () => {
    for (const authorization of [
      undefined,
      'Bearer wrong',
      `Bearer ${scrapeToken}x`,
      scrapeToken,
      r.adminToken,
      `Bearer ${r.adminToken}`,
    ]) {
      const res = await r.request({ method: 'GET', url: '/metrics', headers: authorization === undefined ? {} : { authorization } });
      assert.equal(res.statusCode, 401, `authorization ${authorization}`);
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="metrics"');
      assert.ok(!res.body.includes(scrapeToken));
    }
  });

  it('answers with the token, and never shows it', async () => {
    const res = await r.request({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${scrapeToken}` } });
    assert.equal(res.statusCode, 200);
    const { samples } = parsePrometheus(res.body);
    assert.ok(find(samples, 'cratekeeper_http_requests_total', { route: '/metrics', status: '401' }).length === 1);
    assert.ok(!res.body.includes(scrapeToken));
  });
});
