// HTTP/2 on plain http (src/http/h2c-upgrade.ts), with curl as the real peer that asks for it as
// cargo does: the upgraded request and the requests after it on that connection must get exactly
// the answers HTTP/1.1 gets, on one connection. A request that asks for another upgrade, or has a
// body, is answered over HTTP/1.1 (its body read); a client that sends garbage or nothing after the
// 101 loses only its own connection; closing the server closes its HTTP/2 connections.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { buildApp } from '../../src/http/app.js';
import { acceptH2cUpgrades, prefaceLength, wantsH2c } from '../../src/http/h2c-upgrade.js';
import { ensureDebianPackages } from '../support/apt.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { eventually } from '../support/eventually.js';
import { withinOrHang } from '../support/hang-guard.js';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';

// What curl (and so cargo) sends with its upgrade: its SETTINGS, base64url.
const HTTP2_SETTINGS = 'AAMAAABkAAQCAAAAAAIAAAAA';
const UPGRADE_HEADERS = `Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: ${HTTP2_SETTINGS}\r\n`;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const EMPTY_SETTINGS = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

interface Transfer {
  url: string;
  httpVersion: string;
  status: number;
  connects: number;
  headers: Record<string, string[]>;
  body: Buffer;
}

/** curl over `urls` in one run (one connection when it can), with what it saw of each transfer. */
async function curl(dir: string, args: string[], urls: string[]): Promise<Transfer[]> {
  mkdirSync(dir, { recursive: true });
  const outputs = urls.flatMap((url, i) => [url, '-o', join(dir, `body-${i}`)]);
  const run = await runProgram('curl', ['-sS', '--max-time', '20', ...args, '-w', '\u001e%{json}\u001f%{header_json}', ...outputs]);
  assert.equal(run.code, 0, run.stderr);
  const records = run.stdout.split('\u001e').slice(1);
  assert.equal(records.length, urls.length, run.stdout);
  return records.map((record, i) => {
    const [info, headers] = record.split('\u001f') as [string, string];
    const parsed = JSON.parse(info) as { http_version: string; response_code: number; num_connects: number };
    return {
      url: urls[i]!,
      httpVersion: parsed.http_version,
      status: parsed.response_code,
      connects: parsed.num_connects,
      headers: JSON.parse(headers) as Record<string, string[]>,
      body: readFileSync(join(dir, `body-${i}`)),
    };
  });
}

/** A response's headers without those that differ by protocol or by the second. */
function comparable(headers: Record<string, string[]>): Record<string, string[]> {
  const { date: _date, connection: _connection, 'keep-alive': _keepAlive, ...rest } = headers;
  return rest;
}

const MAX_CONCURRENT_STREAMS = 0x3;

/** The settings of the server's first SETTINGS frame, which follows the 101's head. */
function serverSettings(received: Buffer): Map<number, number> {
  const frame = received.indexOf('\r\n\r\n') + 4;
  assert.equal(received[frame + 3], 4, 'a SETTINGS frame after the 101');
  const settings = new Map<number, number>();
  const end = frame + 9 + received.readUIntBE(frame, 3);
  for (let at = frame + 9; at < end; at += 6) settings.set(received.readUInt16BE(at), received.readUInt32BE(at + 2));
  return settings;
}

interface RawExchange {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): Buffer;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

// Destroyed after the tests, so that a failed test cannot hold a server's close.
const rawSockets = new Set<Socket>();

function rawConnection(port: number): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    rawSockets.add(socket);
    let data = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (data = Buffer.concat([data, chunk])));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

const until = (exchange: RawExchange, text: string) =>
  eventually(() => assert.ok(exchange.received().includes(text), `not yet: ${JSON.stringify(exchange.received().toString('latin1'))}`));

describe('h2c upgrade: curl, as cargo asks for HTTP/2 on plain http', () => {
  let r: TestRegistry;
  let app: FastifyInstance;
  let url: string;
  let port: number;
  let dir: string;

  before(async () => {
    ensureDebianPackages(['curl']);
    r = await startTestRegistry();
    await r.publishAsAdmin('h2c_crate', '1.0.0');
    app = buildApp(r.registry, { publicUrl: () => PUBLIC_URL, logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
    url = `http://127.0.0.1:${port}`;
    dir = makeTempDir('cratekeeper-h2c-');
  });
  after(async () => {
    rawSockets.forEach((socket) => socket.destroy());
    await app.close();
    await r.close();
  });

  const upgrades = async () => Number(/^cratekeeper_http2_upgrades_total (\d+)$/m.exec(await r.registry.metrics.render())![1]);

  it('switches to HTTP/2 and answers every request on that connection as HTTP/1.1 does', async () => {
    const paths = [
      '/index/config.json',
      '/index/h2/c_/h2c_crate',
      '/index/mi/ss/missing_crate',
      '/api/v1/crates/h2c_crate/1.0.0/download',
      '/api/v1/crates/h2c_crate/9.9.9/download',
      '/api/v1/crates?q=h2c',
      '/no/such/route',
    ];
    const urls = paths.map((p) => `${url}${p}`);
    const asCargo = ['-H', `Authorization: ${r.adminToken}`, '-H', 'Accept-Encoding: gzip'];
    const before = await upgrades();
    const http2 = await curl(join(dir, 'h2'), ['--http2', ...asCargo], urls);
    assert.equal(await upgrades(), before + 1);
    const http1 = await curl(join(dir, 'h1'), ['--http1.1', ...asCargo], urls);

    assert.deepEqual(
      http2.map((t) => t.httpVersion),
      paths.map(() => '2'),
    );
    assert.equal(
      http2.reduce((sum, t) => sum + t.connects, 0),
      1,
      'one connection for all',
    );
    assert.deepEqual(
      http2.map((t) => t.status),
      [200, 200, 404, 200, 404, 200, 404],
    );
    for (const [i, h2] of http2.entries()) {
      const h1 = http1[i]!;
      assert.equal(h1.httpVersion, '1.1');
      assert.equal(h2.status, h1.status, h2.url);
      assert.deepEqual(comparable(h2.headers), comparable(h1.headers), h2.url);
      assert.ok(h2.body.equals(h1.body), h2.url);
    }
  });

  it('refuses a request without a token over HTTP/2 as over HTTP/1.1', async () => {
    const [refused] = await curl(join(dir, 'anonymous'), ['--http2'], [`${url}/index/h2/c_/h2c_crate`]);
    assert.equal(refused!.httpVersion, '2');
    assert.equal(refused!.status, 401);
    assert.match(JSON.parse(refused!.body.toString()).errors[0].detail, /requires a token/);
  });

  it('answers a request with a body that asks to upgrade over HTTP/1.1, reading its body', async () => {
    const body = await publishBodyFor('h2c_published', '1.0.0');
    const exchange = await rawConnection(port);
    exchange.socket.write(
      `PUT /api/v1/crates/new HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${r.adminToken}\r\nContent-Length: ${body.length}\r\n${UPGRADE_HEADERS}\r\n`,
    );
    exchange.socket.write(body);
    await withinOrHang(exchange.closed, 10_000, 'the connection closing after its answer');
    const answer = exchange.received().toString('latin1');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /\r\nconnection: close\r\n/i);
    const published = await r.request({ method: 'GET', url: '/index/h2/c_/h2c_published', token: r.adminToken });
    assert.equal(published.statusCode, 200);
    assert.match(published.body, /"vers":"1\.0\.0"/);
  });

  it('answers a request for another protocol over HTTP/1.1, then closes its connection', async () => {
    const exchange = await rawConnection(port);
    exchange.socket.write(
      `GET /index/config.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${r.adminToken}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    );
    await withinOrHang(exchange.closed, 10_000, 'the connection closing after its answer');
    const answer = exchange.received().toString('latin1');
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.match(answer, /"auth-required":true/);
  });

  it('closes a connection that sends garbage after the 101, and goes on serving', async () => {
    const exchange = await rawConnection(port);
    exchange.socket.write(`GET /index/config.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${r.adminToken}\r\n${UPGRADE_HEADERS}\r\n`);
    await until(exchange, '101 Switching Protocols');
    exchange.socket.write('GET /index/config.json HTTP/1.1\r\n\r\n');
    await withinOrHang(exchange.closed, 10_000, 'the connection closing');
    assert.ok(!exchange.received().includes('auth-required'), 'answered after an invalid preface');
    const [next] = await curl(
      join(dir, 'after-garbage'),
      ['--http2', '-H', `Authorization: ${r.adminToken}`],
      [`${url}/index/config.json`],
    );
    assert.equal(next!.status, 200);
  });

  it('closing the server closes its HTTP/2 connections', async () => {
    const own = buildApp(r.registry, { publicUrl: () => PUBLIC_URL, logger: false });
    await own.listen({ port: 0, host: '127.0.0.1' });
    const exchange = await rawConnection((own.server.address() as AddressInfo).port);
    try {
      exchange.socket.write(
        `GET /index/config.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${r.adminToken}\r\n${UPGRADE_HEADERS}\r\n`,
      );
      await until(exchange, '101 Switching Protocols');
      exchange.socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
      // The upgraded request's answer, on stream 1 (a DATA frame's payload is the body itself).
      await until(exchange, '"auth-required":true');
      assert.equal(serverSettings(exchange.received()).get(MAX_CONCURRENT_STREAMS), 100, 'open requests per connection, bounded');
      // The connection stays open (idle HTTP/2), and must not hold the server's close for its timeout.
      await withinOrHang(own.close(), 10_000, 'the server closing');
      await withinOrHang(exchange.closed, 10_000, 'the HTTP/2 connection closing');
    } finally {
      exchange.socket.destroy();
      own.server.closeAllConnections();
    }
  });
});

describe('h2c upgrade: the switch itself', () => {
  const servers: Server[] = [];
  after(() => {
    rawSockets.forEach((socket) => socket.destroy());
    servers.forEach((s) => s.close());
  });

  /** A plain server whose HTTP/2 side echoes what it received, with a short wait for the preface. */
  async function echoServer(maxHeaderSize?: number): Promise<number> {
    const echo = (req: IncomingMessage | { httpVersion: string; headers: Record<string, unknown> }, res: { end(s: string): void }) =>
      res.end(JSON.stringify({ version: req.httpVersion, big: String(req.headers['x-big'] ?? '').length }));
    const http1 = createServer({ maxHeaderSize }, echo);
    acceptH2cUpgrades(http1, createHttp2Server({}, echo as never), { prefaceTimeoutMs: 200 });
    await new Promise<void>((done) => http1.listen(0, '127.0.0.1', done));
    servers.push(http1);
    return (http1.address() as AddressInfo).port;
  }

  it('carries a header block larger than one frame (CONTINUATION) to the upgraded stream', async () => {
    ensureDebianPackages(['curl']);
    const port = await echoServer(64 * 1024);
    const [echoed] = await curl(
      makeTempDir('cratekeeper-h2c-big-'),
      ['--http2', '-H', `X-Big: ${'b'.repeat(40_000)}`],
      [`http://127.0.0.1:${port}/`],
    );
    assert.equal(echoed!.httpVersion, '2');
    assert.deepEqual(JSON.parse(echoed!.body.toString()), { version: '2.0', big: 40_000 });
  });

  it('closes a connection that sends nothing after the 101', async () => {
    const exchange = await rawConnection(await echoServer());
    exchange.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}\r\n`);
    await until(exchange, '101 Switching Protocols');
    await withinOrHang(exchange.closed, 5_000, 'the silent connection closing');
  });

  it('reads the connection preface strictly', () => {
    const settings = (payload: number[], flags = 0, stream = 0) =>
      Buffer.concat([PREFACE, Buffer.from([0, 0, payload.length, 4, flags, 0, 0, 0, stream]), Buffer.from(payload)]);
    const six = [0, 3, 0, 0, 0, 100];
    assert.equal(prefaceLength(Buffer.alloc(0)), 'incomplete');
    assert.equal(prefaceLength(PREFACE.subarray(0, 10)), 'incomplete');
    assert.equal(prefaceLength(Buffer.from('GET / HTTP/1.1\r\n')), 'invalid');
    assert.equal(prefaceLength(settings(six)), PREFACE.length + 9 + 6);
    assert.equal(prefaceLength(Buffer.concat([settings(six), Buffer.from('more')])), PREFACE.length + 9 + 6);
    assert.equal(prefaceLength(settings(six).subarray(0, PREFACE.length + 12)), 'incomplete');
    assert.equal(prefaceLength(settings(six, 1)), 'invalid', 'a SETTINGS acknowledgement');
    assert.equal(prefaceLength(settings(six, 0, 1)), 'invalid', 'SETTINGS on a stream');
    assert.equal(prefaceLength(settings([0, 3, 0])), 'invalid', 'a length not a multiple of 6');
    const headers = Buffer.concat([PREFACE, Buffer.from([0, 0, 0, 1, 5, 0, 0, 0, 1])]);
    assert.equal(prefaceLength(headers), 'invalid', 'a first frame other than SETTINGS');
    const huge = Buffer.concat([PREFACE, Buffer.from([0, 0x40, 0x02, 4, 0, 0, 0, 0, 0])]);
    assert.equal(prefaceLength(huge), 'invalid', 'SETTINGS larger than a first frame may be');
  });

  it('switches only a GET or HEAD without body that asks for h2c with its settings', () => {
    const request = (method: string, headers: Record<string, string>, url = '/index/config.json', httpVersion = '1.1') =>
      ({ method, url, httpVersion, headers }) as unknown as IncomingMessage;
    const h2c = { upgrade: 'h2c', 'http2-settings': HTTP2_SETTINGS };
    assert.equal(wantsH2c(request('GET', h2c)), true);
    assert.equal(wantsH2c(request('HEAD', h2c)), true);
    assert.equal(wantsH2c(request('GET', { ...h2c, upgrade: 'foo, H2C' })), true);
    assert.equal(wantsH2c(request('PUT', h2c)), false);
    assert.equal(wantsH2c(request('GET', { ...h2c, 'content-length': '3' })), false);
    assert.equal(wantsH2c(request('GET', { ...h2c, 'transfer-encoding': 'chunked' })), false);
    assert.equal(wantsH2c(request('GET', { upgrade: 'h2c' })), false, 'no HTTP2-Settings');
    assert.equal(wantsH2c(request('GET', { ...h2c, upgrade: 'websocket' })), false);
    assert.equal(wantsH2c(request('GET', h2c, 'http://example.com/')), false, 'an absolute URL');
    assert.equal(wantsH2c(request('GET', h2c, '/', '1.0')), false);
  });
});
