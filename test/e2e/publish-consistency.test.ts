// A publish is all or nothing, whatever happens to the server: killed after the .crate is stored
// but before the commit, after the commit but before the answer, mid-upload, or at random moments
// under load. And two publishes of the same version: exactly one wins.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { makeCrate, metadataFor, publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { httpRequest, publish } from '../support/http-client.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { verifyDelivery, WebhookReceiver } from '../support/webhook-receiver.js';

const OUTBOX_SECRET = 'e2e-outbox-secret-0123456789abcdef';

interface IndexLine {
  vers: string;
  cksum: string;
}

async function indexLines(server: RunningRegistry, token: string, name: string): Promise<IndexLine[]> {
  const res = await httpRequest(`${server.url}/index/${indexPathOf(name)}`, { headers: { authorization: token } });
  if (res.status === 404) return [];
  assert.equal(res.status, 200);
  return res.body
    .toString()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as IndexLine);
}

/** Every version in the index downloads, and its bytes hash to the index's cksum. */
async function assertIndexMatchesBlobs(server: RunningRegistry, token: string, name: string): Promise<IndexLine[]> {
  const lines = await indexLines(server, token, name);
  for (const line of lines) {
    const dl = await httpRequest(`${server.url}/api/v1/crates/${name}/${line.vers}/download`, { headers: { authorization: token } });
    assert.equal(dl.status, 200, `${name}@${line.vers} is in the index but cannot be downloaded`);
    assert.equal(createHash('sha256').update(dl.body).digest('hex'), line.cksum, `${name}@${line.vers} bytes differ from cksum`);
  }
  return lines;
}

describe('publish consistency', () => {
  it('killed after storing the .crate, before the commit: the version does not exist, and can be published again', async () => {
    const first = await startRegistry({ env: { CRATEKEEPER_FAULT: 'publish-after-blob' } });
    const token = first.adminToken!;
    await assert.rejects(publish(first.url, token, await publishBodyFor('crashy', '1.0.0')), /socket hang up|ECONNRESET/);
    await first.kill();

    const second = await startRegistry({ dataDir: first.dataDir });
    assert.deepEqual(await indexLines(second, token, 'crashy'), []);
    const retry = await publish(second.url, token, await publishBodyFor('crashy', '1.0.0'));
    assert.equal(retry.status, 200, retry.body.toString());
    assert.equal((await assertIndexMatchesBlobs(second, token, 'crashy')).length, 1);
    assert.equal(await second.stop(), 0);
  });

  it('killed after the commit, before answering: the complete version exists', async () => {
    const first = await startRegistry({ env: { CRATEKEEPER_FAULT: 'publish-after-commit' } });
    const token = first.adminToken!;
    await assert.rejects(publish(first.url, token, await publishBodyFor('committed', '1.0.0')), /socket hang up|ECONNRESET/);
    await first.kill();

    const second = await startRegistry({ dataDir: first.dataDir });
    const lines = await assertIndexMatchesBlobs(second, token, 'committed');
    assert.deepEqual(
      lines.map((l) => l.vers),
      ['1.0.0'],
    );
    const again = await publish(second.url, token, await publishBodyFor('committed', '1.0.0'));
    assert.equal(again.status, 409);
    assert.equal(await second.stop(), 0);
  });

  it('killed after the commit, before answering: its webhook event and docs build were committed with it', async () => {
    const receiver = await new WebhookReceiver().listen();
    try {
      const config = join(makeTempDir('cratekeeper-outbox-'), 'cratekeeper.toml');
      writeFileSync(
        config,
        `[[webhooks]]\nname = "ci"\nurl = "${receiver.url}"\nsecret_env = "CK_E2E_OUTBOX_SECRET"\nevents = ["publish"]\n`,
      );
      const env = { CK_E2E_OUTBOX_SECRET: OUTBOX_SECRET, CRATEKEEPER_WEBHOOK_DELIVERY__POLL_INTERVAL_MS: '50' };
      const first = await startRegistry({
        args: ['--config', config],
        env: { ...env, CRATEKEEPER_FAULT: 'publish-after-commit', CRATEKEEPER_DOCS__BUILD: 'true' },
      });
      const token = first.adminToken!;
      await assert.rejects(publish(first.url, token, await publishBodyFor('told', '1.0.0')), /socket hang up|ECONNRESET/);
      await first.kill();
      assert.equal(receiver.deliveries.length, 0, 'nothing was sent before the kill');

      // The builder is off now: the build queued by the killed publish waits, and shows as queued.
      const second = await startRegistry({ dataDir: first.dataDir, args: ['--config', config], env });
      await eventually(() => assert.equal(receiver.accepted().length, 1, 'the publish event was not delivered after the restart'));
      const payload = verifyDelivery(receiver.accepted()[0]!, OUTBOX_SECRET, Math.floor(Date.now() / 1000));
      assert.deepEqual([payload.event, payload.crate, payload.version], ['publish', 'told', '1.0.0']);
      const builds = await httpRequest(`${second.url}/api/v1/crates/told/docs/builds`, { headers: { authorization: token } });
      assert.equal(builds.status, 200, builds.body.toString());
      assert.deepEqual(
        (JSON.parse(builds.body.toString()) as { builds: { version: string; status: string }[] }).builds.map((b) => [b.version, b.status]),
        [['1.0.0', 'queued']],
      );
      assert.equal(await second.stop(), 0);
    } finally {
      await receiver.close();
    }
  });

  it('killed mid-upload: nothing is stored', async () => {
    const first = await startRegistry();
    const token = first.adminToken!;
    const body = await publishBodyFor('half', '1.0.0');
    const req = request(`${first.url}/api/v1/crates/new`, {
      method: 'PUT',
      headers: { authorization: token, 'content-length': body.length },
    });
    req.on('error', () => {});
    req.write(body.subarray(0, body.length / 2));
    await new Promise((r) => setTimeout(r, 200));
    await first.kill();
    req.destroy();

    const second = await startRegistry({ dataDir: first.dataDir });
    assert.deepEqual(await indexLines(second, token, 'half'), []);
    assert.equal(await second.stop(), 0);
  });

  it('killed at random moments under concurrent publishes: every acknowledged version is complete, nothing is half there', async () => {
    let dataDir: string | undefined;
    let token = '';
    const acknowledged = new Set<string>();
    for (let round = 0; round < 4; round++) {
      const server = await startRegistry(dataDir ? { dataDir } : {});
      dataDir = server.dataDir;
      token ||= server.adminToken!;
      // Everything acknowledged so far survived the last kill.
      const before = new Set((await assertIndexMatchesBlobs(server, token, 'stress')).map((l) => l.vers));
      for (const v of acknowledged) assert.ok(before.has(v), `acknowledged stress@${v} was lost`);

      // The bodies are built before the first request, so the kill lands among publishes in flight
      // and not while a slow machine is still packing tarballs.
      const bodies = await Promise.all(Array.from({ length: 12 }, (_, i) => publishBodyFor('stress', `${round}.${i}.0`)));
      let firstAcknowledged = (): void => {};
      const someAcknowledged = new Promise<void>((resolve) => (firstAcknowledged = resolve));
      const publishes = bodies.map(async (body, i) => {
        const version = `${round}.${i}.0`;
        try {
          const res = await publish(server.url, token, body);
          if (res.status === 200) {
            acknowledged.add(version);
            firstAcknowledged();
          }
        } catch {
          // cut off by the kill
        }
      });
      // A random moment after the server has answered once: every round both acknowledges
      // publishes and (usually) cuts others off, however slow the machine.
      await Promise.race([someAcknowledged, Promise.all(publishes)]);
      await new Promise((r) => setTimeout(r, Math.random() * 60));
      await server.kill();
      await Promise.all(publishes);
    }
    const final = await startRegistry({ dataDir: dataDir! });
    const versions = new Set((await assertIndexMatchesBlobs(final, token, 'stress')).map((l) => l.vers));
    for (const v of acknowledged) assert.ok(versions.has(v), `acknowledged stress@${v} was lost`);
    assert.ok(acknowledged.size > 0, 'no publish got through at all; the test proves nothing');
    assert.equal(await final.stop(), 0);
  });

  it('two concurrent publishes of the same version: exactly one succeeds, the other hears "already exists"', async () => {
    const server = await startRegistry();
    const token = server.adminToken!;
    await publish(server.url, token, await publishBodyFor('racy', '0.1.0'));
    for (const version of ['1.0.0', '2.0.0', '3.0.0']) {
      // Different bytes for the same version, so a mix-up would show in the checksum.
      const bodies = await Promise.all(
        Array.from({ length: 8 }, async (_, i) =>
          encodePublishBody(
            metadataFor('racy', version),
            await makeCrate('racy', version, [{ name: `racy-${version}/src/variant.rs`, body: `// ${i}\n` }]),
          ),
        ),
      );
      const results = await Promise.all(bodies.map((b) => publish(server.url, token, b)));
      const statuses = results.map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses}`);
      for (const r of results.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 409);
        assert.match(
          JSON.parse(r.body.toString()).errors[0].detail,
          new RegExp(`version \`${version.replace(/\./g, '\\.')}\` already exists`),
        );
      }
    }
    const lines = await assertIndexMatchesBlobs(server, token, 'racy');
    assert.deepEqual(
      lines.map((l) => l.vers),
      ['0.1.0', '1.0.0', '2.0.0', '3.0.0'],
    );
    assert.equal(await server.stop(), 0);
  });
});
