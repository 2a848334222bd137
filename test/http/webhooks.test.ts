// Webhooks in process, with a real receiver on 127.0.0.1 and the services' clock held by the test:
// publishes and yanks reach the endpoints that want them, signed; a crate's name reaches only the
// endpoints whose patterns cover it; a failed attempt is retried after its backoff, and marked
// failed after the last; admins read the log and redeliver through the API and the admin page,
// create, edit, disable and delete endpoints there; nobody else may.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { withinOrHang } from '../support/hang-guard.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { verifyDelivery, WebhookReceiver, type WebhookPayload } from '../support/webhook-receiver.js';
import { signInWithToken, type PageSession } from '../support/web-session.js';

const CONFIG_SECRET = 'config-secret-0123456789abcdef';
const FILTERED_SECRET = 'filtered-secret-0123456789abcdef';
const SECRET_ENV = 'CK_HTTP_TEST_WEBHOOK_SECRET';
const RETRY_MS = 60_000;

interface DeliveryJson {
  id: number;
  delivery_id: string;
  endpoint: string;
  event: string;
  crate: string | null;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  redelivery_of: number | null;
}

describe('webhooks (in process)', () => {
  let r: TestRegistry;
  let all: WebhookReceiver;
  let filtered: WebhookReceiver;
  let clock = Date.parse('2026-03-01T12:00:00.000Z');
  let admin: PageSession;
  const seconds = () => Math.floor(clock / 1000);
  const settle = () => r.registry.webhooks.idle();
  const runDue = async () => {
    r.registry.webhooks.kick();
    await settle();
  };
  const deliveries = async (query = ''): Promise<DeliveryJson[]> => {
    const res = await r.request({ method: 'GET', url: `/api/v1/admin/webhooks/deliveries${query}`, token: r.adminToken });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { deliveries: DeliveryJson[] }).deliveries;
  };
  const yank = async (name: string, version: string, undo = false) => {
    const res = await r.request({
      method: undo ? 'PUT' : 'DELETE',
      url: `/api/v1/crates/${name}/${version}/${undo ? 'unyank' : 'yank'}`,
      token: r.adminToken,
    });
    assert.equal(res.statusCode, 200, res.body);
  };

  before(async () => {
    all = await new WebhookReceiver().listen();
    filtered = await new WebhookReceiver().listen();
    process.env[SECRET_ENV] = CONFIG_SECRET;
    const toml = `[[webhooks]]
name = "all"
url = "${all.url}"
secret_env = "${SECRET_ENV}"
events = ["publish", "yank", "unyank", "owner-add"]
`;
    r = await startTestRegistry({ 'webhook_delivery.retry_initial_ms': String(RETRY_MS), 'webhook_delivery.max_attempts': '3' }, toml, {
      now: () => clock,
    });
    const created = await r.request({
      method: 'POST',
      url: '/api/v1/admin/webhooks',
      token: r.adminToken,
      payload: { name: 'serde-only', url: filtered.url, secret: FILTERED_SECRET, events: ['publish', 'yank'], crates: ['serde*'] },
    });
    assert.equal(created.statusCode, 201, created.body);
    admin = await signInWithToken(r, r.adminToken);
  });
  after(async () => {
    // The receivers first: they would keep the test process alive if the registry never started.
    await all?.close();
    await filtered?.close();
    delete process.env[SECRET_ENV];
    await r?.close();
  });

  it('delivers a publish, signed, to every endpoint that wants it, and a crate only where its filter covers it', async () => {
    await r.publishAsAdmin('tokio-lite', '1.0.0');
    await r.publishAsAdmin('serde-lite', '1.0.0');
    await settle();
    const toAll = all.accepted().map((d) => verifyDelivery(d, CONFIG_SECRET, seconds()));
    assert.deepEqual(
      toAll.map((p) => [p.event, p.crate, p.version, p.actor, p.registry]),
      [
        ['publish', 'tokio-lite', '1.0.0', 'admin', 'http://registry.test'],
        ['publish', 'serde-lite', '1.0.0', 'admin', 'http://registry.test'],
      ],
    );
    const toFiltered = filtered.accepted().map((d) => verifyDelivery(d, FILTERED_SECRET, seconds()));
    assert.deepEqual(
      toFiltered.map((p) => p.crate),
      ['serde-lite'],
    );
    // Signed with the other endpoint's secret, a delivery does not verify.
    assert.throws(() => verifyDelivery(filtered.accepted()[0]!, CONFIG_SECRET, seconds()), /HMAC/);
    // Nothing sent to the filtered endpoint, and nothing in its log, names the other crate.
    for (const d of filtered.deliveries) assert.doesNotMatch(d.body.toString(), /tokio/);
    const log = await deliveries('?endpoint=serde-only');
    assert.deepEqual(
      log.map((d) => [d.crate, d.status, d.attempts]),
      [['serde-lite', 'delivered', 1]],
    );
    // Never a token.
    for (const d of [...all.deliveries, ...filtered.deliveries]) assert.doesNotMatch(d.body.toString(), /ckt_/);
  });

  it('never makes the request wait for a receiver: a publish answers while the receiver holds the delivery', async () => {
    all.hold = true;
    const published = await withinOrHang(
      r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: await publishBodyFor('slow-hook', '1.0.0') }),
      20_000,
      'a publish while the webhook receiver hangs',
    );
    assert.equal(published.statusCode, 200, published.body);
    all.release();
    await settle();
    assert.equal(all.accepted().at(-1) && verifyDelivery(all.accepted().at(-1)!, CONFIG_SECRET, seconds()).crate, 'slow-hook');
  });

  it('retries a failed delivery after its backoff, once the receiver answers again', async () => {
    all.status = 500;
    const before = all.deliveries.length;
    await yank('tokio-lite', '1.0.0');
    await settle();
    assert.equal(all.deliveries.length, before + 1, 'one attempt, answered 500');
    let [yanked] = await deliveries('?endpoint=all&limit=1');
    assert.deepEqual([yanked!.event, yanked!.status, yanked!.attempts, yanked!.last_status], ['yank', 'pending', 1, 500]);
    assert.equal(yanked!.next_attempt_at, new Date(clock + RETRY_MS).toISOString());
    assert.match(yanked!.last_error!, /answered 500: receiver is failing on purpose/);

    all.status = 204;
    await runDue();
    assert.equal(all.deliveries.length, before + 1, 'not retried before its time');
    clock += RETRY_MS;
    await runDue();
    [yanked] = await deliveries('?endpoint=all&limit=1');
    assert.deepEqual([yanked!.status, yanked!.attempts, yanked!.last_status], ['delivered', 2, 204]);
    const payload = verifyDelivery(all.deliveries.at(-1)!, CONFIG_SECRET, seconds());
    assert.deepEqual([payload.event, payload.crate, payload.version], ['yank', 'tokio-lite', '1.0.0']);
    // The retry re-signs with its own time, over the same body.
    assert.deepEqual(all.deliveries.at(-1)!.body, all.deliveries.at(-2)!.body);
    assert.notEqual(
      all.deliveries.at(-1)!.headers['x-cratekeeper-signature-256'],
      all.deliveries.at(-2)!.headers['x-cratekeeper-signature-256'],
    );
  });

  it('retries when the receiver was closed (connection refused), doubling the wait, and gives up after the last attempt', async () => {
    await all.close();
    await yank('tokio-lite', '1.0.0', true);
    await settle();
    let [unyanked] = await deliveries('?endpoint=all&limit=1');
    assert.deepEqual([unyanked!.event, unyanked!.status, unyanked!.attempts, unyanked!.last_status], ['unyank', 'pending', 1, null]);
    assert.match(unyanked!.last_error!, /ECONNREFUSED/);
    clock += RETRY_MS;
    await runDue();
    [unyanked] = await deliveries('?endpoint=all&limit=1');
    assert.deepEqual([unyanked!.status, unyanked!.attempts], ['pending', 2]);
    assert.equal(unyanked!.next_attempt_at, new Date(clock + 2 * RETRY_MS).toISOString(), 'the second wait is twice the first');
    clock += 2 * RETRY_MS;
    await runDue();
    [unyanked] = await deliveries('?endpoint=all&limit=1');
    assert.deepEqual([unyanked!.status, unyanked!.attempts, unyanked!.next_attempt_at], ['failed', 3, null]);
    await all.listen();
    clock += 10 * RETRY_MS;
    await runDue();
    assert.equal((await deliveries('?endpoint=all&limit=1'))[0]!.status, 'failed', 'a failed delivery is not sent again by itself');
  });

  it('lets an admin redeliver from the API: the same body to the same endpoint, as a new delivery', async () => {
    const [failed] = await deliveries('?status=failed');
    assert.equal(failed!.event, 'unyank');
    const before = all.deliveries.length;
    const res = await r.request({ method: 'POST', url: `/api/v1/admin/webhooks/deliveries/${failed!.id}/redeliver`, token: r.adminToken });
    assert.equal(res.statusCode, 201, res.body);
    const again = res.json() as DeliveryJson;
    assert.equal(again.redelivery_of, failed!.id);
    assert.notEqual(again.delivery_id, failed!.delivery_id);
    await settle();
    assert.equal(all.deliveries.length, before + 1);
    const received = all.deliveries.at(-1)!;
    assert.equal(received.headers['x-cratekeeper-delivery'], again.delivery_id);
    const payload: WebhookPayload = verifyDelivery(received, CONFIG_SECRET, seconds());
    assert.deepEqual([payload.event, payload.crate], ['unyank', 'tokio-lite']);
    const missing = await r.request({ method: 'POST', url: '/api/v1/admin/webhooks/deliveries/999999/redeliver', token: r.adminToken });
    assert.equal(missing.statusCode, 404, missing.body);
  });

  it('refuses the webhook API to a user who is not an admin, and hides the page', async () => {
    const bob = await r.userToken('bob');
    for (const [method, url] of [
      ['GET', '/api/v1/admin/webhooks'],
      ['GET', '/api/v1/admin/webhooks/deliveries'],
      ['POST', '/api/v1/admin/webhooks/deliveries/1/redeliver'],
      ['DELETE', '/api/v1/admin/webhooks/1'],
    ] as const) {
      const res = await r.request({ method, url, token: bob });
      assert.equal(res.statusCode, 403, `${method} ${url}: ${res.body}`);
    }
    const page = await (await signInWithToken(r, bob)).get('/admin/webhooks');
    assert.equal(page.statusCode, 404);
  });

  it('the admin page lists endpoints and deliveries, and creates, edits, disables and deletes an endpoint', async () => {
    const page = await admin.get('/admin/webhooks');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /<tr data-webhook="all">[\s\S]*?configuration file/);
    assert.match(page.body, /<tr data-webhook="serde-only">[\s\S]*?serde\*/);
    assert.match(page.body, /<tr data-delivery="\d+">/);
    assert.doesNotMatch(page.body, new RegExp(`${CONFIG_SECRET}|${FILTERED_SECRET}`), 'no secret on the page');

    const other = await new WebhookReceiver().listen();
    try {
      const created = await admin.post('/admin/webhooks', {
        name: 'ops',
        url: 'http://127.0.0.1:1/nowhere',
        secret: 'ops-secret-0123456789',
        events: ['publish'],
        crates: 'ops-*',
        enabled: 'yes',
      });
      assert.equal(created.statusCode, 303, created.body);
      const listed = (await r.request({ method: 'GET', url: '/api/v1/admin/webhooks', token: r.adminToken })).json() as {
        webhooks: { id: number | null; name: string; url: string; enabled: boolean; crates: string[] | null }[];
      };
      const ops = listed.webhooks.find((w) => w.name === 'ops')!;
      assert.deepEqual([ops.url, ops.crates, ops.enabled], ['http://127.0.0.1:1/nowhere', ['ops-*'], true]);

      // Edit: a new URL, the secret kept (left empty).
      const edited = await admin.post(`/admin/webhooks/${ops.id}`, {
        name: 'ops',
        url: other.url,
        secret: '',
        events: ['publish'],
        crates: 'ops-*',
        enabled: 'yes',
      });
      assert.equal(edited.statusCode, 303, edited.body);
      await r.publishAsAdmin('ops-tool', '1.0.0');
      await settle();
      assert.equal(verifyDelivery(other.accepted()[0]!, 'ops-secret-0123456789', seconds()).crate, 'ops-tool');

      // Disabled: no delivery is queued for it.
      assert.equal((await admin.post(`/admin/webhooks/${ops.id}/disable`)).statusCode, 303);
      await r.publishAsAdmin('ops-tool', '1.1.0');
      await settle();
      assert.equal(other.deliveries.length, 1);
      assert.equal((await deliveries('?endpoint=ops')).length, 1);

      // Redeliver from the page.
      const [sent] = await deliveries('?endpoint=serde-only');
      assert.equal((await admin.post(`/admin/webhooks/deliveries/${sent!.id}/redeliver`)).statusCode, 303);
      await settle();
      assert.equal(filtered.accepted().length, 2);
      assert.deepEqual(filtered.accepted()[1]!.body, filtered.accepted()[0]!.body);

      // A bad URL or a short secret is refused with the reason; a name the file uses is taken.
      const bad = await admin.post('/admin/webhooks', { name: 'bad', url: 'ftp://x', secret: 'x'.repeat(20), events: ['publish'] });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /not a webhook URL/);
      const short = await admin.post('/admin/webhooks', { name: 'short', url: other.url, secret: 'short', events: ['publish'] });
      assert.match(short.body, /at least 16 characters/);
      const clash = await admin.post('/admin/webhooks', { name: 'all', url: other.url, secret: 'x'.repeat(20), events: ['publish'] });
      assert.equal(clash.statusCode, 409);

      assert.equal((await admin.post(`/admin/webhooks/${ops.id}/delete`)).statusCode, 303);
      const after = (await r.request({ method: 'GET', url: '/api/v1/admin/webhooks', token: r.adminToken })).json() as {
        webhooks: { name: string }[];
      };
      assert.deepEqual(
        after.webhooks.map((w) => w.name),
        ['all', 'serde-only'],
      );
    } finally {
      await other.close();
    }
  });
  it('tells of owner changes to the endpoints that take them, with who was added', async () => {
    await r.userToken('carol');
    const added = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/tokio-lite/owners',
      token: r.adminToken,
      payload: { users: ['carol'] },
    });
    assert.equal(added.statusCode, 200, added.body);
    await settle();
    const payload = verifyDelivery(all.accepted().at(-1)!, CONFIG_SECRET, seconds());
    assert.deepEqual([payload.event, payload.crate, payload.actor, payload.detail], ['owner-add', 'tokio-lite', 'admin', 'carol']);
  });

  it('never sends a queued delivery to an endpoint that no longer covers its crate, nor redelivers it there', async () => {
    const other = await new WebhookReceiver().listen();
    /** The admin page's form for the endpoint `narrowed`: a new secret, or '' to keep it. */
    const form = (crates: string, secret = 'narrowed-secret-0123456789') => ({
      name: 'narrowed',
      url: other.url,
      secret,
      events: ['publish'],
      crates,
      enabled: 'yes',
    });
    const endpointId = async () => {
      const listed = (await r.request({ method: 'GET', url: '/api/v1/admin/webhooks', token: r.adminToken })).json() as {
        webhooks: { id: number | null; name: string }[];
      };
      return listed.webhooks.find((w) => w.name === 'narrowed')!.id!;
    };
    try {
      const created = await admin.post('/admin/webhooks', form(''));
      assert.equal(created.statusCode, 303, created.body);
      const id = await endpointId();

      other.status = 500;
      await r.publishAsAdmin('hidden-tool', '1.0.0');
      await settle();
      let [queued] = await deliveries('?endpoint=narrowed');
      assert.deepEqual([queued!.crate, queued!.status, queued!.attempts], ['hidden-tool', 'pending', 1]);

      // The admin narrows the endpoint to other crates: the retry must not name hidden-tool to it.
      other.status = 204;
      const narrowed = await admin.post(`/admin/webhooks/${id}`, form('ops-*', ''));
      assert.equal(narrowed.statusCode, 303, narrowed.body);
      clock += 10 * RETRY_MS;
      await runDue();
      assert.equal(other.deliveries.length, 1, 'only the first attempt, made while the endpoint covered the crate');
      [queued] = await deliveries('?endpoint=narrowed');
      assert.deepEqual([queued!.status, queued!.attempts], ['failed', 1]);
      assert.match(queued!.last_error!, /the endpoint "narrowed" no longer covers this crate/);
      const redelivered = await r.request({
        method: 'POST',
        url: `/api/v1/admin/webhooks/deliveries/${queued!.id}/redeliver`,
        token: r.adminToken,
      });
      assert.equal(redelivered.statusCode, 409, redelivered.body);
      assert.match(redelivered.json().errors[0].detail, /no longer covers this crate/);
      await settle();
      assert.equal(other.deliveries.length, 1);

      // Deleted with a delivery pending: it fails, and a new endpoint of that name never gets it.
      other.status = 500;
      await r.publishAsAdmin('ops-gone', '1.0.0');
      await settle();
      assert.deepEqual(
        (await deliveries('?endpoint=narrowed&status=pending')).map((d) => d.crate),
        ['ops-gone'],
      );
      assert.equal((await admin.post(`/admin/webhooks/${id}/delete`)).statusCode, 303);
      const [gone] = await deliveries('?endpoint=narrowed&limit=1');
      assert.deepEqual([gone!.crate, gone!.status, gone!.last_error], ['ops-gone', 'failed', 'the endpoint "narrowed" was deleted']);
      other.status = 204;
      const again = await admin.post('/admin/webhooks', form(''));
      assert.equal(again.statusCode, 303, again.body);
      clock += 10 * RETRY_MS;
      await runDue();
      assert.equal(other.deliveries.length, 2, 'ops-gone was tried once before the delete, and never after');
      assert.equal((await admin.post(`/admin/webhooks/${await endpointId()}/delete`)).statusCode, 303);
    } finally {
      await other.close();
    }
  });
  it("tells of the policy's events: an administrator's hold, and the download it refuses", async () => {
    const other = await new WebhookReceiver().listen();
    try {
      const created = await r.request({
        method: 'POST',
        url: '/api/v1/admin/webhooks',
        token: r.adminToken,
        payload: { name: 'policy', url: other.url, secret: 'policy-secret-0123456789', events: ['policy-change', 'policy-refused'] },
      });
      assert.equal(created.statusCode, 201, created.body);
      const hold = await r.request({
        method: 'POST',
        url: '/api/v1/admin/policy/exceptions',
        token: r.adminToken,
        payload: { kind: 'hold', crate: 'serde-lite@1.0.0', reason: 'under review' },
      });
      assert.equal(hold.statusCode, 201, hold.body);
      const refused = await r.request({ method: 'GET', url: '/api/v1/crates/serde-lite/1.0.0/download', token: r.adminToken });
      assert.equal(refused.statusCode, 403, refused.body);
      await settle();
      const payloads = other.accepted().map((d) => verifyDelivery(d, 'policy-secret-0123456789', seconds()));
      assert.deepEqual(
        payloads.map((p) => [p.event, p.crate, p.version, p.actor]),
        [
          ['policy-change', 'serde-lite', '1.0.0', 'admin'],
          ['policy-refused', 'serde-lite', '1.0.0', 'admin'],
        ],
      );
      assert.equal(
        (
          await r.request({
            method: 'POST',
            url: '/api/v1/admin/policy/exceptions/remove',
            token: r.adminToken,
            payload: { kind: 'hold', crate: 'serde-lite@1.0.0' },
          })
        ).statusCode,
        200,
      );
    } finally {
      await other.close();
    }
  });
});
