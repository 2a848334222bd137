// A request that never finishes arriving must not hold its connection for good: a token holder
// could otherwise open stalled requests until the process runs out of descriptors. Every request
// must arrive within the slowest upload the settings allow (app.ts, `requestArrivalLimitMs`; 1 s
// here): a stalled body or stalled headers get a 408 and a closed connection over plain HTTP/1.1;
// over TLS, a silent connection is closed. What node cannot read as a request gets cargo's error
// shape too.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { withinOrHang } from '../support/hang-guard.js';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { makeTestCertificates } from '../support/test-ca.js';

/** Connections a failed test may leave open; closed at the end so that the servers can close. */
const opened: Socket[] = [];

/** Everything the server sends on `socket` until it closes the connection. */
function untilClosed(socket: Socket): Promise<string> {
  opened.push(socket);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  return withinOrHang(
    new Promise<string>((resolve) => socket.once('close', () => resolve(received))),
    30_000,
    'the server never closed the connection',
  );
}

function errorDetail(response: string): { status: number; detail: string } {
  const [head, body] = response.split('\r\n\r\n') as [string, string];
  assert.match(head, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
  assert.match(head, /\r\nconnection: close(\r\n|$)/i);
  const parsed = JSON.parse(body) as { errors: Array<{ detail: string }> };
  return { status: Number(head.split(' ')[1]), detail: parsed.errors[0]!.detail };
}

describe('requests that never finish arriving, and bytes that are not a request', () => {
  let r: TestRegistry;
  let tls: FastifyInstance;
  let port: number;
  let tlsPort: number;

  before(async () => {
    r = await startTestRegistry({
      'publish.queue_seconds': '0',
      'publish.upload_timeout_seconds': '1',
      'docs.upload_timeout_seconds': '1',
    });
    await r.app.listen({ port: 0, host: '127.0.0.1' });
    port = (r.app.server.address() as AddressInfo).port;
    const certs = makeTestCertificates();
    tls = buildApp(r.registry, {
      publicUrl: () => PUBLIC_URL,
      logger: false,
      tls: { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) },
    });
    await tls.listen({ port: 0, host: '127.0.0.1' });
    tlsPort = (tls.server.address() as AddressInfo).port;
  });
  after(async () => {
    opened.forEach((socket) => socket.destroy());
    await tls.close();
    await r.close();
  });

  it('answers 408 to an authenticated request whose body stops, closes it, and changes nothing', async () => {
    const owners = async () => (await r.request({ url: '/api/v1/crates/stalled_owner/owners', token: r.adminToken })).body;
    const before = await owners();
    const socket = connect(port, '127.0.0.1');
    const answer = untilClosed(socket);
    socket.write(
      `PUT /api/v1/crates/stalled_owner/owners HTTP/1.1\r\nHost: registry.test\r\nAuthorization: ${r.adminToken}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"users":["',
    );
    const { status, detail } = errorDetail(await answer);
    assert.equal(status, 408);
    assert.match(detail, /did not arrive within the time this server allows/);
    assert.equal(await owners(), before);
  });

  it('answers 408 to headers that stop before their end', async () => {
    const socket = connect(port, '127.0.0.1');
    const answer = untilClosed(socket);
    socket.write(`GET /index/config.json HTTP/1.1\r\nHost: registry.test\r\nAuthorization: ${r.adminToken}\r\n`);
    assert.equal(errorDetail(await answer).status, 408);
  });

  it('answers 400 in cargo shape to bytes that are not HTTP/1.1, and 431 to headers over the limit', async () => {
    const garbage = connect(port, '127.0.0.1');
    const garbageAnswer = untilClosed(garbage);
    garbage.write('HELLO THERE\r\n\r\n');
    assert.deepEqual(errorDetail(await garbageAnswer), { status: 400, detail: 'the request is not valid HTTP/1.1' });

    const oversized = connect(port, '127.0.0.1');
    const oversizedAnswer = untilClosed(oversized);
    oversized.write(`GET /index/config.json HTTP/1.1\r\nHost: registry.test\r\nX-Filler: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    assert.equal(errorDetail(await oversizedAnswer).status, 431);
  });

  it('answers a request that arrives whole, on the same server', async () => {
    const socket = connect(port, '127.0.0.1');
    const answer = untilClosed(socket);
    socket.write(`GET /index/config.json HTTP/1.1\r\nHost: registry.test\r\nAuthorization: ${r.adminToken}\r\nConnection: close\r\n\r\n`);
    assert.match(await answer, /^HTTP\/1\.1 200 /);
  });

  it('closes a TLS connection that goes silent in the middle of a request', async () => {
    const socket = connectTls({ port: tlsPort, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const answer = untilClosed(socket);
    socket.write(
      `PUT /api/v1/crates/stalled_owner/owners HTTP/1.1\r\nHost: registry.test\r\nAuthorization: ${r.adminToken}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"users":["',
    );
    assert.equal(await answer, '', 'closed, without an answer');
  });
});
