// Several `cratekeeper serve` replicas (separate commands, separate data folders) on one PostgreSQL
// and one S3 bucket behave as one registry: a publish through one is in every other's index within
// a second; concurrent publishes of one version through different replicas end with exactly one
// success; a revocation, a terminal sign-in (device flow) and the (sliding) rate limits hold on
// every replica; and a replica killed mid-publish loses nothing acknowledged and leaves no half
// version.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { generateToken } from '../../src/domain/token.js';
import { makeCrate, metadataFor, publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { errorDetail, httpRequest, publish, type HttpResult } from '../support/http-client.js';
import { hiddenCsrf } from '../support/web-session.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { startSharedBackends, type SharedBackends } from '../support/shared-backends.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function indexVersions(server: RunningRegistry, token: string, name: string): Promise<string[]> {
  const res = await httpRequest(`${server.url}/index/${indexPathOf(name)}`, { headers: { authorization: token } });
  if (res.status === 404) return [];
  assert.equal(res.status, 200, res.body.toString());
  return res.body
    .toString()
    .trimEnd()
    .split('\n')
    .map((l) => (JSON.parse(l) as { vers: string }).vers);
}

/** Every version in `server`'s index downloads there, and its bytes hash to the index's cksum. */
async function assertIndexMatchesBlobs(server: RunningRegistry, token: string, name: string): Promise<string[]> {
  const res = await httpRequest(`${server.url}/index/${indexPathOf(name)}`, { headers: { authorization: token } });
  if (res.status === 404) return [];
  const lines = res.body
    .toString()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { vers: string; cksum: string });
  for (const line of lines) {
    const dl = await httpRequest(`${server.url}/api/v1/crates/${name}/${line.vers}/download`, { headers: { authorization: token } });
    assert.equal(dl.status, 200, `${name}@${line.vers} is in the index but cannot be downloaded`);
    assert.equal(createHash('sha256').update(dl.body).digest('hex'), line.cksum, `${name}@${line.vers} bytes differ from cksum`);
  }
  return lines.map((l) => l.vers);
}

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** Signs in to a running replica's web pages with a token, as a browser does: the session cookie and the forms' CSRF token. */
async function signInOverHttp(server: RunningRegistry, token: string): Promise<{ cookie: string; csrf: string }> {
  const cookieNamed = (headers: HttpResult['headers'], name: string) =>
    ([headers['set-cookie'] ?? []].flat() as string[])
      .map((c) => c.split(';')[0]!)
      .find((c) => c.startsWith(`${name}=`) && c !== `${name}=`);
  const page = await httpRequest(`${server.url}/sign-in`);
  const flow = cookieNamed(page.headers, 'ck_login');
  assert.ok(flow, 'the sign-in page sets its flow cookie');
  const done = await httpRequest(`${server.url}/me/token-sign-in`, {
    method: 'POST',
    headers: { cookie: flow, 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(new URLSearchParams({ csrf: hiddenCsrf(page.body.toString()), token }).toString()),
  });
  assert.equal(done.status, 303, done.body.toString());
  const cookie = cookieNamed(done.headers, 'ck_session');
  assert.ok(cookie, 'signing in sets the session cookie');
  const home = await httpRequest(`${server.url}/`, { headers: { cookie } });
  return { cookie, csrf: hiddenCsrf(home.body.toString()) };
}

/** Polls until `check` holds; returns how long it took, or fails after `limitMs`. */
async function within(limitMs: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > limitMs) assert.fail(`${what} took longer than ${limitMs} ms`);
    await sleep(25);
  }
}

describe('several replicas on one PostgreSQL and one bucket', () => {
  let backends: SharedBackends;
  before(async () => {
    backends = await startSharedBackends();
  });
  after(async () => {
    await backends?.stop();
  });

  describe('as one registry', () => {
    let env: Record<string, string>;
    let a: RunningRegistry;
    let b: RunningRegistry;
    let token: string;
    before(async () => {
      env = await backends.newRegistryEnv();
      a = await startRegistry({ env });
      b = await startRegistry({ env });
      token = a.adminToken!;
      assert.equal(b.adminToken, undefined, 'the second replica created a second admin');
    });
    after(async () => {
      assert.equal(await a.stop(), 0);
      assert.equal(await b.stop(), 0);
    });

    it('a publish through one replica is in the index of the other within one second', async () => {
      for (const [n, version] of ['1.0.0', '1.1.0', '1.2.0'].entries()) {
        // The reader has the old file (or "no such crate") cached: the change feed must drop it.
        assert.equal((await indexVersions(b, token, 'spread')).length, n);
        const res = await publish(a.url, token, await publishBodyFor('spread', version));
        assert.equal(res.status, 200, res.body.toString());
        const ms = await within(
          1000,
          'seeing the publish on the other replica',
          async () => (await indexVersions(b, token, 'spread')).length === n + 1,
        );
        console.log(`# ${version} visible on the other replica after ${ms} ms`);
      }
    });

    it('concurrent publishes of one version through different replicas: exactly one succeeds', async () => {
      // New crate (the name race) and new versions of an existing crate.
      for (const version of ['1.0.0', '2.0.0', '3.0.0']) {
        const bodies = await Promise.all(
          Array.from({ length: 6 }, async (_, i) =>
            encodePublishBody(
              metadataFor('contested', version),
              await makeCrate('contested', version, [{ name: `contested-${version}/src/variant.rs`, body: `// ${i}\n` }]),
            ),
          ),
        );
        const results = await Promise.all(bodies.map((body, i) => publish((i % 2 ? b : a).url, token, body)));
        const statuses = results.map((r) => r.status);
        assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
        for (const r of results.filter((x) => x.status !== 200)) {
          assert.equal(r.status, 409, r.body.toString());
          assert.match(errorDetail(r), /already exists/);
        }
      }
      await sleep(500);
      for (const server of [a, b]) assert.deepEqual(await assertIndexMatchesBlobs(server, token, 'contested'), ['1.0.0', '2.0.0', '3.0.0']);
    });

    it('a token revoked through one replica is refused by the other within one second', async () => {
      const created = await httpRequest(`${a.url}/api/v1/me/tokens`, {
        method: 'POST',
        headers: { authorization: token, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ name: 'short-lived' })),
      });
      assert.equal(created.status, 201, created.body.toString());
      const { id, token: secret } = (JSON.parse(created.body.toString()) as { token: { id: number; token: string } }).token;
      const readOn = async (server: RunningRegistry) =>
        (await httpRequest(`${server.url}/index/config.json`, { headers: { authorization: secret } })).status;
      // Both replicas have the token in their caches.
      assert.equal(await readOn(a), 200);
      assert.equal(await readOn(b), 200);
      const revoked = await httpRequest(`${a.url}/api/v1/me/tokens/${id}`, { method: 'DELETE', headers: { authorization: token } });
      assert.equal(revoked.status, 200, revoked.body.toString());
      const ms = await within(1000, 'refusing the revoked token on the other replica', async () => (await readOn(b)) === 401);
      console.log(`# revocation effective on the other replica after ${ms} ms`);
      assert.equal(await readOn(a), 401);
    });

    it('a terminal sign-in started on one replica is approved, refreshed and signed out on the other', async () => {
      const form = (server: RunningRegistry, path: string, fields: Record<string, string>, cookie?: string) =>
        httpRequest(`${server.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
          body: Buffer.from(new URLSearchParams({ client_id: 'cratekeeper-cli', ...fields }).toString()),
        });
      const json = (res: { status: number; body: Buffer }, status: number) => {
        assert.equal(res.status, status, res.body.toString());
        return JSON.parse(res.body.toString()) as Record<string, string>;
      };
      const started = json(await form(a, '/oauth/device_authorization', { device_name: 'ci@replicas' }), 200);

      // Approved on the other replica, in a browser session made there, before the first poll (a poll
      // sooner than the interval after another would be told to slow down).
      const session = await signInOverHttp(b, token);
      const approved = await form(b, '/device/approve', { user_code: started.user_code!, csrf: session.csrf }, session.cookie);
      assert.equal(approved.status, 200, approved.body.toString());
      const issued = json(await form(a, '/oauth/token', { grant_type: DEVICE_GRANT, device_code: started.device_code! }), 200);
      const readOn = async (server: RunningRegistry, secret: string) =>
        (await httpRequest(`${server.url}/index/config.json`, { headers: { authorization: secret } })).status;
      assert.equal(await readOn(b, issued.access_token!), 200);

      // Refreshed on B; the spent refresh token, replayed on A, signs the whole device out everywhere.
      const refreshed = json(await form(b, '/oauth/token', { grant_type: 'refresh_token', refresh_token: issued.refresh_token! }), 200);
      assert.equal(await readOn(a, refreshed.access_token!), 200);
      assert.equal(await readOn(b, refreshed.access_token!), 200);
      const replay = json(await form(a, '/oauth/token', { grant_type: 'refresh_token', refresh_token: issued.refresh_token! }), 400);
      assert.equal(replay.error, 'invalid_grant');
      await eventually(async () => assert.equal(await readOn(b, refreshed.access_token!), 401));
      assert.equal(await readOn(a, refreshed.access_token!), 401);
      const after = json(await form(b, '/oauth/token', { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token! }), 400);
      assert.equal(after.error, 'invalid_grant');
    });

    it('a replica killed mid-publish loses nothing acknowledged and leaves no half version', async () => {
      // Killed after the .crate is in the bucket, before the commit: the version does not exist.
      const beforeCommit = await startRegistry({ env: { ...env, CRATEKEEPER_FAULT: 'publish-after-blob' } });
      await assert.rejects(publish(beforeCommit.url, token, await publishBodyFor('crashy', '1.0.0')), /socket hang up|ECONNRESET/);
      await beforeCommit.kill();
      assert.deepEqual(await indexVersions(b, token, 'crashy'), []);
      const retry = await publish(b.url, token, await publishBodyFor('crashy', '1.0.0'));
      assert.equal(retry.status, 200, retry.body.toString());

      // Killed after the commit, before answering: the other replica serves the whole version.
      const afterCommit = await startRegistry({ env: { ...env, CRATEKEEPER_FAULT: 'publish-after-commit' } });
      await assert.rejects(publish(afterCommit.url, token, await publishBodyFor('committed', '1.0.0')), /socket hang up|ECONNRESET/);
      await afterCommit.kill();
      await within(1000, 'seeing the committed version', async () => (await indexVersions(b, token, 'committed')).length === 1);
      assert.deepEqual(await assertIndexMatchesBlobs(b, token, 'committed'), ['1.0.0']);

      // Killed at a random moment under concurrent publishes.
      const acknowledged = new Set<string>();
      for (let round = 0; round < 3; round++) {
        const victim = await startRegistry({ env });
        let firstAck = () => {};
        const acked = new Promise<void>((resolve) => (firstAck = resolve));
        const publishes = Array.from({ length: 10 }, async (_, i) => {
          const version = `${round}.${i}.0`;
          try {
            const res = await publish(victim.url, token, await publishBodyFor('stress', version));
            if (res.status === 200) acknowledged.add(version);
            firstAck();
          } catch {
            // cut off by the kill
          }
        });
        // A publish to S3 takes a while: kill at a random moment once the first one is through,
        // while the others are in flight.
        await Promise.race([acked, sleep(5000)]);
        await sleep(Math.random() * 100);
        await victim.kill();
        await Promise.all(publishes);
      }
      await sleep(500);
      const survived = new Set(await assertIndexMatchesBlobs(b, token, 'stress'));
      for (const v of acknowledged) assert.ok(survived.has(v), `acknowledged stress@${v} was lost`);
      assert.ok(acknowledged.size > 0, 'no publish got through at all; the test proves nothing');
      console.log(`# ${acknowledged.size} acknowledged, ${survived.size} stored across 3 kills`);
    });
  });

  // The limits slide over a minute (no fixed window whose edge a test could straddle): with 3
  // publishes a minute, a refusal lasts about 20 s after the third, far longer than these steps.
  describe('rate limits', () => {
    let a: RunningRegistry;
    let b: RunningRegistry;
    before(async () => {
      const env = {
        ...(await backends.newRegistryEnv()),
        CRATEKEEPER_RATE_LIMITS__PUBLISH_PER_MINUTE: '3',
        CRATEKEEPER_RATE_LIMITS__FAILED_AUTH_PER_MINUTE: '5',
        CRATEKEEPER_CACHE__POLL_INTERVAL_MS: '50',
      };
      a = await startRegistry({ env });
      b = await startRegistry({ env });
    });
    after(async () => {
      assert.equal(await a.stop(), 0);
      assert.equal(await b.stop(), 0);
    });

    it('publishes per user are counted across replicas', async () => {
      const token = a.adminToken!;
      for (const version of ['1.0.0', '1.1.0', '1.2.0']) {
        assert.equal((await publish(a.url, token, await publishBodyFor('limited', version))).status, 200);
      }
      // b learns of a's publishes within a few poll intervals and counts its own meanwhile; on its
      // own it would accept 3 before refusing. It must refuse before its own count gets there.
      let acceptedByB = 0;
      const refused = await eventually(
        async () => {
          const res = await publish(b.url, token, await publishBodyFor('limited', `1.${3 + acceptedByB}.0`));
          if (res.status === 200) acceptedByB++;
          assert.equal(res.status, 429, res.body.toString());
          return res;
        },
        10_000,
        200,
      );
      assert.ok(acceptedByB < 3, `the other replica accepted ${acceptedByB} more publishes before refusing`);
      assert.match(errorDetail(refused), /too many publishes by this user; try again in \d+ s/);
      assert.ok(Number(refused.headers['retry-after']) >= 1);
    });

    it('failed token checks per address are counted across replicas; valid tokens keep working', async () => {
      const token = a.adminToken!;
      const read = (server: RunningRegistry, t: string) =>
        httpRequest(`${server.url}/index/config.json`, { headers: { authorization: t } }).then((r) => r.status);
      assert.equal(await read(b, token), 200);
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push(await read(a, generateToken()));
      assert.deepEqual(statuses, [401, 401, 401, 401, 401]);
      // On its own, b would answer 401 to 5 wrong tokens from this address before any 429.
      let wrongOnB = 0;
      await eventually(
        async () => {
          const status = await read(b, generateToken());
          if (status === 401) wrongOnB++;
          assert.equal(status, 429);
        },
        10_000,
        200,
      );
      assert.ok(wrongOnB < 5, `the other replica answered ${wrongOnB} wrong tokens with 401 before refusing`);
      // Not a cratekeeper token at all: refused from memory, never counted nor limited.
      assert.equal(await read(b, 'ckt_elsewhere'), 401);
      // Valid tokens pass from that address, known or not yet seen by a replica.
      assert.equal(await read(b, token), 200);
      const created = await httpRequest(`${a.url}/api/v1/me/tokens`, {
        method: 'POST',
        headers: { authorization: token, 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ name: 'behind the same address' })),
      });
      assert.equal(created.status, 201, created.body.toString());
      const fresh = (JSON.parse(created.body.toString()) as { token: { token: string } }).token.token;
      assert.equal(await read(b, fresh), 200);
      assert.equal(await read(a, fresh), 200);
    });
  });
});
