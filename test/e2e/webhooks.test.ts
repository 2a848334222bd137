// Webhooks with the real `cratekeeper serve` and the real cargo: a receiver on 127.0.0.1 gets
// signed deliveries for `cargo publish` and `cargo yank`, checks the signature and its timestamp;
// when it answers 500, or is closed, it gets the retries once it is back, even across a restart of
// the registry (the queue is in the database); two replicas on one PostgreSQL deliver each event
// exactly once; and a webhook the server cannot use stops `serve` with the setting's name.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { httpRequest, publish } from '../support/http-client.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { verifyDelivery, WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'e2e-webhook-secret-0123456789abcdef';
const nowSeconds = () => Math.floor(Date.now() / 1000);
// Small waits, so retries come quickly; the checks wait with `eventually`, never a fixed sleep.
const FAST_RETRIES = {
  CK_E2E_WEBHOOK_SECRET: SECRET,
  CRATEKEEPER_WEBHOOK_DELIVERY__RETRY_INITIAL_MS: '100',
  CRATEKEEPER_WEBHOOK_DELIVERY__RETRY_MAX_MS: '400',
  CRATEKEEPER_WEBHOOK_DELIVERY__POLL_INTERVAL_MS: '50',
  CRATEKEEPER_WEBHOOK_DELIVERY__MAX_ATTEMPTS: '100',
};

function configWith(receiver: WebhookReceiver, extra = ''): string {
  const file = join(makeTempDir('cratekeeper-webhooks-'), 'cratekeeper.toml');
  writeFileSync(
    file,
    `[[webhooks]]
name = "ci"
url = "${receiver.url}"
secret_env = "CK_E2E_WEBHOOK_SECRET"
events = ["publish", "yank", "unyank"]
${extra}`,
  );
  return file;
}

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

interface LoggedDelivery {
  event: string;
  crate: string | null;
  status: string;
  attempts: number;
  last_error: string | null;
}

async function deliveryLog(server: RunningRegistry, token: string): Promise<LoggedDelivery[]> {
  const res = await httpRequest(`${server.url}/api/v1/admin/webhooks/deliveries?limit=1000`, { headers: { authorization: token } });
  assert.equal(res.status, 200, res.body.toString());
  return (JSON.parse(res.body.toString()) as { deliveries: LoggedDelivery[] }).deliveries;
}

describe('webhooks with cargo and cratekeeper serve', () => {
  let receiver: WebhookReceiver;
  let server: RunningRegistry;
  let config: string;
  let token: string;
  let cargo: CargoSandbox;
  const payloads = () => receiver.accepted().map((d) => verifyDelivery(d, SECRET, nowSeconds()));

  before(async () => {
    receiver = await new WebhookReceiver().listen();
    config = configWith(receiver);
    server = await startRegistry({ args: ['--config', config], env: FAST_RETRIES });
    token = server.adminToken!;
    cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    ok(await cargo.run(['login', '--registry', 'ck'], { input: `${token}\n` }), 'cargo login');
  });
  after(async () => {
    await receiver?.close();
    if (server) assert.equal(await server.stop(), 0);
  });

  it('delivers cargo publish and cargo yank, signed with a fresh timestamp', async () => {
    const dir = cargo.createPackage({ name: 'hooked', version: '0.1.0', lib: 'pub fn f() {}\n' });
    ok(await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: dir }), 'cargo publish');
    const [published] = await eventually(() => {
      assert.equal(receiver.accepted().length, 1);
      return payloads();
    });
    assert.deepEqual(
      [published!.event, published!.crate, published!.version, published!.actor, published!.registry],
      ['publish', 'hooked', '0.1.0', 'admin', server.url],
    );
    assert.match(published!.time, /^\d{4}-\d\d-\d\dT/);

    ok(await cargo.run(['yank', '--registry', 'ck', 'hooked@0.1.0']), 'cargo yank');
    const yanked = await eventually(() => {
      assert.equal(receiver.accepted().length, 2);
      return payloads()[1]!;
    });
    assert.deepEqual([yanked.event, yanked.crate, yanked.version], ['yank', 'hooked', '0.1.0']);
    assert.notEqual(yanked.id, published!.id);
  });

  it('a receiver answering 500 gets the retries once it answers again', async () => {
    receiver.status = 500;
    ok(await cargo.run(['yank', '--registry', 'ck', '--undo', 'hooked@0.1.0']), 'cargo yank --undo');
    await eventually(() => assert.ok(receiver.deliveries.filter((d) => d.answered === 500).length >= 2, 'retried while failing'));
    receiver.status = 204;
    const unyanked = await eventually(() => {
      assert.equal(receiver.accepted().length, 3);
      return payloads()[2]!;
    });
    assert.deepEqual([unyanked.event, unyanked.crate], ['unyank', 'hooked']);
    const failedBodies = receiver.deliveries.filter((d) => d.answered === 500).map((d) => d.body.toString());
    assert.ok(
      failedBodies.every((b) => b === receiver.accepted()[2]!.body.toString()),
      'every retry sent the same bytes',
    );
    await eventually(async () => {
      const [logged] = await deliveryLog(server, token);
      assert.deepEqual([logged!.event, logged!.status], ['unyank', 'delivered']);
      assert.ok(logged!.attempts >= 3, `attempts: ${logged!.attempts}`);
    });
  });

  it('a closed receiver gets the delivery after it listens again, even when the registry restarted meanwhile', async () => {
    await receiver.close();
    ok(await cargo.run(['yank', '--registry', 'ck', 'hooked@0.1.0']), 'cargo yank');
    await eventually(async () => {
      const [logged] = await deliveryLog(server, token);
      assert.equal(logged!.event, 'yank');
      assert.match(logged!.last_error ?? '', /ECONNREFUSED/);
    });
    assert.equal(await server.stop(), 0);
    server = await startRegistry({ dataDir: server.dataDir, args: ['--config', config], env: FAST_RETRIES });
    await receiver.listen();
    const again = await eventually(() => {
      assert.equal(receiver.accepted().length, 4);
      return payloads()[3]!;
    });
    assert.deepEqual([again.event, again.crate], ['yank', 'hooked']);
  });
});

describe('export and import', () => {
  it('carry the endpoints made by admins, whose sealed secrets still sign after the move; not the delivery log', async () => {
    const receiver = await new WebhookReceiver().listen();
    const secret = 'moved-secret-0123456789abcdef';
    const source = await startRegistry();
    const token = source.adminToken!;
    let target: RunningRegistry | undefined;
    try {
      const created = await httpRequest(`${source.url}/api/v1/admin/webhooks`, {
        method: 'POST',
        headers: { authorization: token },
        body: Buffer.from(JSON.stringify({ name: 'moved', url: receiver.url, secret, events: ['publish'], crates: ['moved-*'] })),
      });
      assert.equal(created.status, 201, created.body.toString());
      assert.equal((await publish(source.url, token, await publishBodyFor('moved-one', '1.0.0'))).status, 200);
      await eventually(() => assert.equal(receiver.accepted().length, 1));
      assert.equal(await source.stop(), 0);

      const archive = join(makeTempDir('cratekeeper-archive-'), 'archive');
      ok(await runCli(['export', archive, '--data-dir', source.dataDir]), 'export');
      const tables = (JSON.parse(readFileSync(join(archive, 'manifest.json'), 'utf8')) as { tables: { name: string }[] }).tables.map(
        (t) => t.name,
      );
      assert.ok(tables.includes('webhook_endpoints'), `exported tables: ${tables.join(', ')}`);
      assert.ok(!tables.includes('webhook_deliveries'), 'the delivery log is not exported');
      assert.doesNotMatch(
        readFileSync(join(archive, 'tables', 'webhook_endpoints.jsonl'), 'utf8'),
        new RegExp(secret),
        'the secret is sealed',
      );

      const dataDir = makeTempDir('cratekeeper-imported-');
      ok(await runCli(['import', archive, '--data-dir', dataDir]), 'import');
      target = await startRegistry({ dataDir });
      const listed = await httpRequest(`${target.url}/api/v1/admin/webhooks`, { headers: { authorization: token } });
      assert.deepEqual(
        (JSON.parse(listed.body.toString()) as { webhooks: { name: string; crates: string[] }[] }).webhooks.map((w) => [w.name, w.crates]),
        [['moved', ['moved-*']]],
      );
      assert.equal((await publish(target.url, token, await publishBodyFor('moved-two', '1.0.0'))).status, 200);
      const payload = await eventually(() => {
        assert.equal(receiver.accepted().length, 2);
        return verifyDelivery(receiver.accepted()[1]!, secret, nowSeconds());
      });
      assert.equal(payload.crate, 'moved-two');
    } finally {
      if (target) assert.equal(await target.stop(), 0);
      await receiver.close();
    }
  });
});

describe('webhook settings the server cannot use', () => {
  it('stops serve with the setting and the reason: a secret variable that is not set, a bad URL', async () => {
    const receiver = new WebhookReceiver();
    const missing = await runCli(['serve', '--port', '0', '--data-dir', makeTempDir(), '--config', configWith(receiver)], {
      env: { CK_E2E_WEBHOOK_SECRET: '' },
    });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /webhooks\.0\.secret_env: the environment variable CK_E2E_WEBHOOK_SECRET is not set/);

    const file = join(makeTempDir(), 'cratekeeper.toml');
    writeFileSync(file, `[[webhooks]]\nname = "ci"\nurl = "not a url"\nsecret_env = "CK_E2E_WEBHOOK_SECRET"\nevents = ["publish"]\n`);
    const badUrl = await runCli(['serve', '--port', '0', '--data-dir', makeTempDir(), '--config', file], {
      env: { CK_E2E_WEBHOOK_SECRET: SECRET },
    });
    assert.notEqual(badUrl.code, 0);
    assert.match(badUrl.stderr, /webhooks\.0\.url: expected an http:\/\/ or https:\/\/ URL/);
  });
});

describe('two replicas on one PostgreSQL', () => {
  let postgres: PostgresServer;
  let receiver: WebhookReceiver;
  let a: RunningRegistry;
  let b: RunningRegistry;

  before(async () => {
    postgres = await startPostgresServer();
    receiver = await new WebhookReceiver().listen();
    const env = { ...FAST_RETRIES, CRATEKEEPER_DATABASE__URL: await postgres.createDatabase() };
    const config = configWith(receiver);
    a = await startRegistry({ args: ['--config', config], env });
    b = await startRegistry({ args: ['--config', config], env });
  });
  after(async () => {
    await receiver?.close();
    if (a) assert.equal(await a.stop(), 0);
    if (b) assert.equal(await b.stop(), 0);
    await postgres?.stop();
  });

  it('deliver each event exactly once, also when both retry what a closed receiver refused', async () => {
    const token = a.adminToken!;
    // While the receiver is closed, both replicas keep claiming the same pending deliveries.
    await receiver.close();
    const names = Array.from({ length: 8 }, (_, i) => `replicated-${i}`);
    for (const [i, name] of names.entries()) {
      const res = await publish((i % 2 ? b : a).url, token, await publishBodyFor(name, '1.0.0'));
      assert.equal(res.status, 200, res.body.toString());
    }
    await eventually(async () => {
      const log = await deliveryLog(a, token);
      assert.equal(log.length, names.length);
      assert.ok(
        log.every((d) => d.attempts >= 2),
        'every delivery was retried at least once',
      );
    });
    await receiver.listen();
    await eventually(async () => {
      const log = await deliveryLog(b, token);
      assert.deepEqual(
        log.map((d) => d.status),
        names.map(() => 'delivered'),
      );
    });
    // Polls go on meanwhile on both replicas: nothing more may arrive.
    const received = receiver.accepted().map((d) => verifyDelivery(d, SECRET, nowSeconds()));
    assert.deepEqual(received.map((p) => p.crate).sort(), [...names].sort(), 'each publish once');
    assert.equal(new Set(received.map((p) => p.id)).size, names.length);
    assert.equal(new Set(receiver.accepted().map((d) => d.headers['x-cratekeeper-delivery'])).size, names.length);
  });
});
