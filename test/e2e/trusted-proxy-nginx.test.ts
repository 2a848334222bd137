// `server.trusted_proxies` with the real nginx as the reverse proxy, writing X-Forwarded-For as it is
// usually set up (`$proxy_add_x_forwarded_for`). nginx reaches cratekeeper from 127.0.0.2
// (`proxy_bind`) while its clients come from 127.0.0.1, so the audit log shows which address was
// taken: with the setting naming 127.0.0.2, the client's; without it, the proxy's. The client also
// sends an X-Forwarded-For of its own, which nginx keeps in front of its entry: it must be ignored.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { httpRequest } from '../support/http-client.js';
import { startNginx, type RunningNginx } from '../support/nginx-server.js';
import { startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const PROXY_ADDRESS = '127.0.0.2';
const FORGED = { 'x-forwarded-for': '203.0.113.66' };

interface Proxied {
  registry: RunningRegistry;
  nginx: RunningNginx;
}

async function behindNginx(env: Record<string, string>): Promise<Proxied> {
  const registry = await startRegistry({ env });
  const nginx = await startNginx({
    root: makeTempDir('cratekeeper-proxy-root-'),
    serverConfig: `
    location / {
      proxy_pass ${registry.url};
      proxy_bind ${PROXY_ADDRESS};
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }`,
  });
  return { registry, nginx };
}

/** Publishes and downloads one crate through nginx; the client addresses of both audit events. */
async function auditedAddresses({ registry, nginx }: Proxied, crate: string): Promise<string[]> {
  const headers = { authorization: registry.adminToken!, ...FORGED };
  const published = await httpRequest(`${nginx.url}/api/v1/crates/new`, {
    method: 'PUT',
    headers,
    body: await publishBodyFor(crate, '1.0.0'),
  });
  assert.equal(published.status, 200, published.body.toString());
  const downloaded = await httpRequest(`${nginx.url}/api/v1/crates/${crate}/1.0.0/download`, { headers });
  assert.equal(downloaded.status, 200);
  const addresses: string[] = [];
  for (const action of ['publish', 'download']) {
    // The audit log is written in batches: asked until the event is there.
    for (let attempt = 0; ; attempt++) {
      const answer = await httpRequest(`${registry.url}/api/v1/admin/audit?action=${action}&crate=${crate}`, {
        headers: { authorization: registry.adminToken! },
      });
      const events = JSON.parse(answer.body.toString()) as { events: Array<{ client_ip: string }> };
      if (events.events.length > 0) {
        addresses.push(events.events[0]!.client_ip);
        break;
      }
      assert.ok(attempt < 100, `no ${action} event in the audit log`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return addresses;
}

describe('trusted proxies: nginx in front', () => {
  let trusting: Proxied;
  let untrusting: Proxied;

  before(async () => {
    trusting = await behindNginx({ CRATEKEEPER_SERVER__TRUSTED_PROXIES: PROXY_ADDRESS });
    untrusting = await behindNginx({});
  });
  after(async () => {
    // Either may be missing when `before` failed part way.
    for (const proxied of [trusting, untrusting]) {
      await proxied?.nginx.stop();
      await proxied?.registry.stop();
    }
  });

  it("records the address nginx received the request from, not nginx's, nor the client's claim", async () => {
    assert.deepEqual(await auditedAddresses(trusting, 'through_nginx'), ['127.0.0.1', '127.0.0.1']);
  });

  it("records nginx's address when the setting does not name it", async () => {
    assert.deepEqual(await auditedAddresses(untrusting, 'through_nginx'), [PROXY_ADDRESS, PROXY_ADDRESS]);
  });
});
