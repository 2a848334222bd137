// Every method on every route is a door. The routes are collected as the app registers them, so a
// route added later is covered without editing this file. For each route, each HTTP method and
// each kind of caller who may not read the crate `secret-core` (nobody, a malformed token, an
// unknown token, a stranger's token, a narrowed token, a stranger's browser session):
// - the answer for the hidden crate is the answer for a crate that does not exist: same status,
//   same headers (content-length included), same body with the name swapped;
// - without credentials, every method gets the refusal GET gets: 401 with cargo's login hint for
//   the index and the API, a redirect to sign in for the pages; only the public routes listed here
//   (sign-in, probes, static files, trusted publishing's exchange) answer anonymous callers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { generateToken } from '../../src/domain/token.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { signInWithToken } from '../support/web-session.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
// Written out here on purpose, not imported from src/http/unmatched-routes.ts: a path made public
// there by mistake must fail this test, which it could not if both read the same list.
const PUBLIC = [
  /^\/me(\/|$)/,
  /^\/sign-in$/,
  /^\/static\//,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/metrics$/,
  /^\/api\/v1\/trusted_publishing\//,
  // Terminal sign-in (routes/oauth.ts): the client has no token yet; nothing here names a crate.
  /^\/\.well-known\/oauth-authorization-server$/,
  /^\/oauth\//,
  // Rustdoc files behind a capability ticket (routes/docs-pages.ts): the ticket, not a session,
  // says who reads; a missing or stale one is sent back to /docs/<crate>/..., which asks for a session.
  /^\/docs\/~\//,
];
const TOKEN_AREAS = [/^\/index\//, /^\/api\//, /^\/mirrors\//];
// Same length and same access rule, so that nothing but existence differs.
const HIDDEN = 'secret-core';
const ABSENT = 'secret-cave';

const ACCESS = `
[[access.rules]]
crates = ["secret*"]
read = ["alice"]
`;

function urlFor(pattern: string, crate: string): string {
  return pattern
    .replace(':upstream', 'upstream')
    .replace(':name', crate)
    .replace(':version', '1.0.0')
    .replace(':id', '1')
    .replace('*', indexPathOf(crate));
}

/** What a caller can observe of an answer, with the crate's name and per-request secrets masked. */
function observable(res: LightMyRequestResponse, crate: string) {
  const mask = (text: string) =>
    text
      .replaceAll(indexPathOf(crate), '<path>')
      .replaceAll(crate, '<crate>')
      .replace(/[A-Za-z0-9_-]{32,}/g, '<random>');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (name === 'date' || value === undefined) continue;
    const text = Array.isArray(value) ? value.join('\n') : String(value);
    // Cookies carry fresh random values on every answer: compare their names and attributes.
    headers[name] = name === 'set-cookie' ? mask(text).replace(/=[^;]*;/g, '=<value>;') : mask(text);
  }
  return { status: res.statusCode, headers, body: mask(res.body) };
}

describe('every route and method, for callers who may not read a crate', () => {
  let r: TestRegistry;
  const routes = new Map<string, Set<string>>();
  const callers: { name: string; headers: Record<string, string> }[] = [];

  before(async () => {
    r = await startTestRegistry(
      {
        'rate_limits.failed_auth_per_minute': '1000000',
        'rate_limits.publish_per_minute': '1000000',
        'login.attempts_per_minute_per_address': '1000000',
      },
      ACCESS,
      {
        onRoute: (route) => {
          const methods = routes.get(route.url) ?? new Set<string>();
          for (const m of [route.method].flat()) methods.add(m);
          routes.set(route.url, methods);
        },
      },
    );
    await r.publishAsAdmin(HIDDEN, '1.0.0');
    const eve = await r.userToken('eve');
    const narrowed = (await r.registry.accounts.createToken('eve', 'narrow', { scopes: ['read'], cratePatterns: ['secret-*'] })).token;
    const session = await signInWithToken(r, eve);
    callers.push(
      { name: 'no credentials', headers: {} },
      { name: 'a malformed token', headers: { authorization: 'Bearer not-a-token' } },
      { name: 'an unknown token', headers: { authorization: generateToken() } },
      { name: "a stranger's token", headers: { authorization: eve } },
      { name: "a stranger's narrowed token", headers: { authorization: narrowed } },
      { name: "a stranger's browser session", headers: { cookie: session.cookie } },
    );
  });
  after(() => r.close());

  it('collects the routes the app serves', () => {
    for (const expected of [
      '/index/*',
      '/api/v1/crates/:name/owners',
      '/crates/:name',
      '/search',
      '/admin/audit',
      '/admin/webhooks',
      '/api/v1/admin/webhooks/deliveries',
    ]) {
      assert.ok(routes.has(expected), `route ${expected} was registered`);
    }
  });

  it('answers a hidden crate exactly as a crate that does not exist', async () => {
    let compared = 0;
    // /metrics counts every request by design, so two of its answers always differ; what it counts
    // is compared below.
    for (const pattern of [...routes.keys()].filter((p) => p !== '/metrics')) {
      for (const method of METHODS) {
        for (const caller of callers) {
          const ask = (crate: string) =>
            r.request({ method, url: urlFor(pattern, crate), headers: { accept: 'text/html', ...caller.headers } });
          const [hidden, absent] = [await ask(HIDDEN), await ask(ABSENT)];
          assert.deepEqual(
            observable(hidden, HIDDEN),
            observable(absent, ABSENT),
            `${method} ${pattern} for ${caller.name}: the answers differ, so they tell that ${HIDDEN} exists`,
          );
          compared++;
        }
      }
    }
    assert.ok(compared > 500, `compared ${compared} pairs of answers`);
  });

  it('counts a refused read of a hidden crate in /metrics as a read of a crate that does not exist', async () => {
    const eve = await r.userToken('eve-metrics');
    const counters = async () => {
      const text = (await r.request({ method: 'GET', url: '/metrics' })).body;
      return text
        .split('\n')
        .filter((line) => /^cratekeeper_(index_cache|http_requests)/.test(line) && !line.includes('/metrics'))
        .join('\n');
    };
    const readAs = (crate: string) => r.request({ method: 'GET', url: `/index/${indexPathOf(crate)}`, token: eve });
    // Two fresh names under the same rule, one published (hidden from eve) and one not.
    await r.publishAsAdmin('secret-wolf', '1.0.0');
    const start = await counters();
    await readAs('secret-wolf');
    const afterHidden = await counters();
    await readAs('secret-fox1');
    const afterAbsent = await counters();
    const delta = (a: string, b: string) =>
      b
        .split('\n')
        .filter((line) => !a.split('\n').includes(line))
        .map((l) => l.replace(/ \d+(\.\d+)?$/, ''));
    assert.deepEqual(delta(start, afterHidden), delta(afterHidden, afterAbsent));
  });

  it('refuses every method without credentials as GET is refused, outside the public routes', async () => {
    for (const pattern of routes.keys()) {
      const url = urlFor(pattern, HIDDEN);
      if (PUBLIC.some((p) => p.test(url))) continue;
      for (const method of METHODS) {
        const res = await r.request({ method, url });
        const what = `${method} ${url} without credentials`;
        if (TOKEN_AREAS.some((p) => p.test(url))) {
          assert.equal(res.statusCode, 401, `${what}: ${res.statusCode} ${res.body}`);
          assert.match(String(res.headers['www-authenticate']), /^Cargo login_url=/, what);
        } else {
          assert.equal(res.statusCode, 303, `${what}: ${res.statusCode}`);
          assert.match(String(res.headers.location), /^\/sign-in\?next=/, what);
        }
      }
    }
  });

  it('answers HEAD like GET, without a body, for a signed-in reader too', async () => {
    const alice = await r.userToken('alice');
    const session = await signInWithToken(r, alice);
    for (const url of ['/', `/crates/${HIDDEN}`, `/search?q=${HIDDEN}`]) {
      const get = await r.request({ method: 'GET', url, headers: { cookie: session.cookie } });
      const head = await r.request({ method: 'HEAD', url, headers: { cookie: session.cookie } });
      assert.equal(get.statusCode, 200, url);
      assert.equal(head.statusCode, 200, url);
      assert.equal(head.body, '');
    }
  });
});
