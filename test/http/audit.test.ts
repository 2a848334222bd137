// The audit log: what is recorded, who may read it, and that it never holds a secret.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

describe('audit log', () => {
  let r: TestRegistry;
  let alice: string;
  let aliceTokenId: number;
  const audit = async (query: string, token = r.adminToken) => {
    await r.registry.audit.flush();
    return r.request({ method: 'GET', url: `/api/v1/admin/audit?${query}`, token });
  };
  const events = async (query: string) => JSON.parse((await audit(query)).body).events as Record<string, unknown>[];

  before(async () => {
    r = await startTestRegistry({}, '[[access.rules]]\ncrates = ["hidden"]\nread = ["admin"]\n');
    await r.registry.accounts.addUser('alice', false);
    const created = await r.registry.accounts.createToken('alice', 'laptop');
    alice = created.token;
    aliceTokenId = created.record.id;
    await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: alice, payload: await publishBodyFor('audited', '1.0.0') });
    await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: await publishBodyFor('hidden', '1.0.0') });
    for (let i = 0; i < 5; i++)
      await r.request({ method: 'GET', url: '/index/au/di/audited', token: alice, headers: { 'user-agent': 'cargo/1.95.0' } });
    await r.request({
      method: 'GET',
      url: '/api/v1/crates/audited/1.0.0/download',
      token: alice,
      headers: { 'user-agent': 'cargo/1.95.0 (test)' },
    });
    await r.request({ method: 'DELETE', url: '/api/v1/crates/audited/1.0.0/yank', token: alice });
    await r.request({ method: 'PUT', url: '/api/v1/crates/audited/owners', token: alice, payload: { users: ['admin'] } });
    await r.request({ method: 'GET', url: '/index/hi/dd/hidden', token: alice });
    await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: await publishBodyFor('theirs', '1.0.0') });
    await r.request({ method: 'DELETE', url: '/api/v1/crates/theirs/1.0.0/yank', token: alice });
    await r.request({ method: 'DELETE', url: '/api/v1/crates/hidden/1.0.0/yank', token: alice });
    const made = await r.request({ method: 'POST', url: '/api/v1/me/tokens', token: alice, payload: { name: 'ci', scopes: ['read'] } });
    await r.request({ method: 'DELETE', url: `/api/v1/me/tokens/${JSON.parse(made.body).token.id}`, token: alice });
  });
  after(() => r.close());

  it('records a download with crate, version, user, token id, address and user agent', async () => {
    const [download] = await events('action=download');
    assert.deepEqual(
      {
        user: download!.user,
        token_id: download!.token_id,
        crate: download!.crate,
        version: download!.version,
        agent: download!.user_agent,
      },
      { user: 'alice', token_id: aliceTokenId, crate: 'audited', version: '1.0.0', agent: 'cargo/1.95.0 (test)' },
    );
    assert.match(String(download!.client_ip), /^127\.0\.0\.1$|^::1$|^::ffff:127\.0\.0\.1$/);
    assert.ok(Date.now() - Date.parse(String(download!.at)) < 60_000);
  });

  it('counts index reads per token, crate and hour', async () => {
    const reads = await events('action=index-read&crate=audited');
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.count, 5);
    assert.match(String(reads[0]!.at), /T\d\d:00:00\.000Z$/);
  });

  it('records publishes, yanks, owner changes, token creation and revocation, and refusals', async () => {
    const actions = (await events('user=alice&limit=100')).map((e) => `${e.action} ${e.crate ?? ''}`.trim());
    for (const expected of [
      'publish audited',
      'yank audited',
      'owner-add audited',
      'token-create',
      'token-revoke',
      'access-refused hidden',
    ]) {
      assert.ok(actions.includes(expected), `${expected} missing from ${actions.join(', ')}`);
    }
    const refusals = await events('action=access-refused&crate=hidden');
    assert.ok(refusals.some((e) => /index read refused by an access rule/.test(String(e.detail))));
    const notOwner = await events('action=access-refused&crate=theirs');
    assert.equal(notOwner.length, 1);
    assert.match(String(notOwner[0]!.detail), /you are not an owner of crate `theirs`/);
    assert.equal(notOwner[0]!.user, 'alice');
  });

  it('never holds a token secret', async () => {
    const all = await audit('limit=1000&format=csv');
    assert.doesNotMatch(all.body, /ckt_/);
  });

  it('filters by time and pages', async () => {
    assert.equal(JSON.parse((await audit('since=2000-01-01T00:00:00Z&until=2000-01-02T00:00:00Z')).body).total, 0);
    const page = JSON.parse((await audit('since=7d&limit=2&offset=1')).body);
    assert.equal(page.events.length, 2);
    assert.ok(page.total > 3);
  });

  it('answers CSV with a header and one row per event', async () => {
    const csv = await audit('action=download&format=csv');
    assert.match(csv.headers['content-type'] as string, /^text\/csv/);
    const lines = csv.body.trim().split('\n');
    assert.equal(lines[0], 'id,at,action,user,token_id,crate,version,client_ip,user_agent,count,detail');
    assert.match(lines[1]!, /,download,alice,\d+,audited,1\.0\.0,/);
  });

  it('is for admins only, and refuses bad filters clearly', async () => {
    const res = await audit('', alice);
    assert.equal(res.statusCode, 403);
    assert.match(JSON.parse(res.body).errors[0].detail, /only administrators may read the audit log/);
    const bad = await audit('action=nonsense');
    assert.equal(bad.statusCode, 400);
    assert.match(JSON.parse(bad.body).errors[0].detail, /unknown action `nonsense`/);
    assert.match(JSON.parse((await audit('since=yesterday')).body).errors[0].detail, /`since` must be a date/);
  });

  it('prunes events older than the retention', async () => {
    await r.registry.audit.flush();
    const removed = await r.registry.auditLog.prune(new Date(Date.now() + 86_400_000).toISOString());
    assert.ok(removed > 5);
    assert.equal(JSON.parse((await audit('')).body).total, 0);
  });

  // Last: it stops the recorder, so that the counts of the minute under way are written.
  it('counts a flood of refusals without a row each: a forged sign-in post, and a page an ordinary token may not see', async () => {
    const forged = () =>
      r.request({
        method: 'POST',
        url: '/me/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'login=x&password=y',
      });
    const refusedToAlice = () => r.request({ method: 'GET', url: '/api/v1/admin/audit', token: alice });
    for (let i = 0; i < 300; i++) {
      assert.equal((await forged()).statusCode, 400);
      assert.equal((await refusedToAlice()).statusCode, 403);
    }
    await r.registry.audit.stop();
    const written = (await r.registry.auditLog.query({ limit: 1000, offset: 0 })).events;
    for (const action of ['login-failed', 'access-refused'] as const) {
      const rows = written.filter((e) => e.action === action);
      // At most two rows a minute (the first refusal and the count of its repeats), and the flood
      // may span two minutes; Alice's first refusal was already written (and pruned) above.
      assert.ok(rows.length >= 1 && rows.length <= 4, `${action}: ${rows.length} rows`);
      assert.equal(
        rows.reduce((sum, e) => sum + e.count, 0),
        300,
        `${action}: every refusal counted`,
      );
    }
  });
});
