// Behind a reverse proxy every request comes from the proxy. The audit log (and the rate limits, and
// sign-in sessions) must see the client instead: X-Forwarded-For names it, but only when the peer
// is one of `server.trusted_proxies`; from anyone else the header is the client's own claim and is
// ignored. Both paths that answer downloads must agree: the lean path (fast-lane.ts) and fastify's
// route (which the lean path leaves escaped names to).

import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

const LOOPBACK = /^127\.0\.0\.1$|^::1$|^::ffff:127\.0\.0\.1$/;

/** A GET over a real connection (the lean path runs on the listening server, not on inject). */
function get(r: TestRegistry, path: string, headers: Record<string, string>): Promise<number> {
  const { port } = r.app.server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { authorization: r.adminToken, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The client addresses of the audit log's downloads, oldest first. */
async function downloadAddresses(r: TestRegistry): Promise<string[]> {
  await r.registry.audit.flush();
  const answer = await r.request({ method: 'GET', url: '/api/v1/admin/audit?action=download&limit=100', token: r.adminToken });
  const events = JSON.parse(answer.body).events as Array<{ client_ip: string }>;
  return events.map((e) => e.client_ip).reverse();
}

describe('server.trusted_proxies', () => {
  let trusting: TestRegistry;
  let plain: TestRegistry;

  before(async () => {
    trusting = await startTestRegistry({ 'server.trusted_proxies': 'loopback' });
    plain = await startTestRegistry();
    for (const r of [trusting, plain]) {
      await r.publishAsAdmin('proxied_crate', '1.0.0');
      await r.app.listen({ port: 0, host: '127.0.0.1' });
    }
  });
  after(async () => {
    await trusting.close();
    await plain.close();
  });

  it("takes the client from a trusted proxy's X-Forwarded-For, on the lean path and on fastify's route", async () => {
    // The last address the proxy appended is the client; what the client itself sent before it is not.
    const forwarded = { 'x-forwarded-for': '198.51.100.9, 203.0.113.7' };
    // Twice on the lean path (the first may go to fastify while the token is not yet in memory), then
    // an escaped name, which the lean path leaves to fastify's router.
    assert.equal(await get(trusting, '/api/v1/crates/proxied_crate/1.0.0/download', forwarded), 200);
    assert.equal(await get(trusting, '/api/v1/crates/proxied_crate/1.0.0/download', forwarded), 200);
    assert.equal(await get(trusting, '/api/v1/crates/proxied%5Fcrate/1.0.0/download', forwarded), 200);
    assert.equal(await get(trusting, '/api/v1/crates/proxied_crate/1.0.0/download', {}), 200);
    assert.deepEqual(await downloadAddresses(trusting), ['203.0.113.7', '203.0.113.7', '203.0.113.7', '127.0.0.1']);
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy', async () => {
    const forged = { 'x-forwarded-for': '203.0.113.7' };
    assert.equal(await get(plain, '/api/v1/crates/proxied_crate/1.0.0/download', forged), 200);
    assert.equal(await get(plain, '/api/v1/crates/proxied_crate/1.0.0/download', forged), 200);
    assert.equal(await get(plain, '/api/v1/crates/proxied%5Fcrate/1.0.0/download', forged), 200);
    const addresses = await downloadAddresses(plain);
    assert.equal(addresses.length, 3);
    for (const address of addresses) assert.match(address, LOOPBACK);
  });
});
