// A request that never finishes arriving must not hold its connection for good: a token holder
// could otherwise open stalled requests until the process runs out of descriptors or memory. Every
// request must arrive within the slowest upload the settings allow (app.ts, `requestArrivalLimitMs`;
// 3 s here): a stalled body or stalled headers get a 408 and a closed connection over plain
// HTTP/1.1; a body that keeps trickling in gets a 408 too over TLS (HTTP/1.1 and HTTP/2) and on an
// h2c stream, where node enforces no limit of its own (request-arrival.ts); over TLS, a silent
// connection is closed. What node cannot read as a request gets cargo's error shape too.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect as connectHttp2, constants as http2Constants } from 'node:http2';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect as connectTls } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.js';
import { LATE_REQUEST_DETAIL } from '../../src/http/client-errors.js';
import { requestFrames } from '../../src/http/http2-request-frames.js';
import { eventually } from '../support/eventually.js';
import { withinOrHang } from '../support/hang-guard.js';
import { http2Answer } from '../support/http2-answer.js';
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

/**
 * Calls `send` with one more byte of a request body every 200 ms, until `stop`: the connection is
 * never silent for long, so only the arrival limit can end the request.
 */
function trickle(send: (byte: string) => void): { stop: () => void } {
  const timer = setInterval(() => send('a'), 200);
  return { stop: () => clearInterval(timer) };
}

/** An HTTP/2 DATA frame (RFC 9113 §6.1) on `stream`, not ending it. */
const dataFrame = (stream: number, payload: string) => {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt32BE(stream, 5);
  return Buffer.concat([header, Buffer.from(payload, 'latin1')]);
};

/** A stalled owners PUT's head: its body is to follow. */
const STALLED_PUT_FIELDS = (token: string): [string, string][] => [
  [':method', 'PUT'],
  [':scheme', 'http'],
  [':path', '/api/v1/crates/stalled_owner/owners'],
  [':authority', '127.0.0.1'],
  ['authorization', token],
  ['content-type', 'application/json'],
  ['content-length', '1000'],
];

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
      // Long enough that a trickle every 200 ms keeps a connection from ever looking idle (the TLS
      // server's idle limit is the same), even on a loaded machine.
      'publish.upload_timeout_seconds': '3',
      'docs.upload_timeout_seconds': '3',
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

  it('answers 408 to a body that keeps trickling in over TLS with HTTP/1.1, and changes nothing', async () => {
    const owners = async () => (await r.request({ url: '/api/v1/crates/stalled_owner/owners', token: r.adminToken })).body;
    const before = await owners();
    const socket = connectTls({ port: tlsPort, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const answer = untilClosed(socket);
    socket.write(
      `PUT /api/v1/crates/stalled_owner/owners HTTP/1.1\r\nHost: registry.test\r\nAuthorization: ${r.adminToken}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"users":["',
    );
    const bytes = trickle((byte) => socket.writable && socket.write(byte));
    try {
      const { status, detail } = errorDetail(await answer);
      assert.equal(status, 408);
      assert.equal(detail, LATE_REQUEST_DETAIL);
    } finally {
      bytes.stop();
    }
    assert.equal(await owners(), before);
  });

  it('answers 408 to an HTTP/2 stream whose body keeps trickling in over TLS, and the connection goes on', async () => {
    const owners = async () => (await r.request({ url: '/api/v1/crates/stalled_owner/owners', token: r.adminToken })).body;
    const before = await owners();
    const session = connectHttp2(`https://127.0.0.1:${tlsPort}`, { rejectUnauthorized: false });
    session.on('error', () => {});
    try {
      const fields = STALLED_PUT_FIELDS(r.adminToken).filter(([name]) => name !== ':scheme' && name !== ':authority');
      const stream = session.request(Object.fromEntries(fields), { endStream: false });
      stream.write('{"users":["');
      const bytes = trickle((byte) => stream.writable && stream.write(byte));
      try {
        const answer = await withinOrHang(http2Answer(stream), 30_000, 'the stalled stream answered and closed');
        assert.equal(answer.status, 408);
        assert.equal((JSON.parse(answer.body) as { errors: Array<{ detail: string }> }).errors[0]!.detail, LATE_REQUEST_DETAIL);
        assert.equal(stream.rstCode, http2Constants.NGHTTP2_NO_ERROR);
      } finally {
        bytes.stop();
      }
      // Only that stream ended: the connection answers the next request.
      const next = session.request({ ':path': '/index/config.json', authorization: r.adminToken });
      next.end();
      assert.equal((await withinOrHang(http2Answer(next), 30_000, 'the next request answered')).status, 200);
    } finally {
      session.destroy();
    }
    assert.equal(await owners(), before);
  });

  it('answers 408 to an h2c stream whose body keeps trickling in', async () => {
    const socket = connect(port, '127.0.0.1');
    const answer = untilClosed(socket);
    let seen = '';
    socket.on('data', (chunk: Buffer) => (seen += chunk.toString('latin1')));
    socket.write(
      `GET /index/config.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${r.adminToken}\r\n` +
        'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n',
    );
    await eventually(() => assert.match(seen, /101 Switching Protocols/));
    const head = requestFrames(3, STALLED_PUT_FIELDS(r.adminToken));
    head[4] = head[4]! & ~0x1; // not END_STREAM: a body follows
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
    const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    socket.write(Buffer.concat([preface, emptySettings, head, dataFrame(3, '{"users":["')]));
    const bytes = trickle((byte) => socket.writable && socket.write(dataFrame(3, byte)));
    try {
      // A DATA frame's payload is the body itself.
      await withinOrHang(
        eventually(() => assert.ok(seen.includes(JSON.stringify(LATE_REQUEST_DETAIL)), 'the 408 on the stalled stream')),
        30_000,
        'the h2c stream answered',
      );
    } finally {
      bytes.stop();
      socket.destroy();
    }
    await answer;
  });

  it('closes a TLS connection that stays silent', async () => {
    const socket = connectTls({ port: tlsPort, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    assert.equal(await untilClosed(socket), '', 'closed, without an answer');
  });
});
