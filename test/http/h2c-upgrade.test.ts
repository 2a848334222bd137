// HTTP/2 on plain http (src/http/h2c-upgrade.ts), with curl as the real peer that asks for it as
// cargo does: the upgraded request and the requests after it on that connection must get exactly
// the answers HTTP/1.1 gets, on one connection. A request that asks for another upgrade, or has a
// body, is answered over HTTP/1.1 (its body read); a client that sends garbage or nothing after the
// 101 loses only its own connection; closing the server closes its HTTP/2 connections.

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { buildApp } from '../../src/http/app.js';
import { acceptH2cUpgrades, prefaceLength, wantsH2c } from '../../src/http/h2c-upgrade.js';
import { requestFrames } from '../../src/http/http2-request-frames.js';
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
/** RST_STREAM with CANCEL, as a client that gives up a request sends. */
const cancel = (stream: number) => Buffer.from([0, 0, 4, 3, 0, 0, 0, 0, stream, 0, 0, 0, 8]);

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
      // curl writes no file for an answer without body (a 304).
      body: existsSync(join(dir, `body-${i}`)) ? readFileSync(join(dir, `body-${i}`)) : Buffer.alloc(0),
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

/** `allowHalfOpen`: a client that never closes its side, even after the server closed its own. */
function rawConnection(port: number, allowHalfOpen = false): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen });
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

  /** Watches the registry's download counter: `seen` is the downloads counted until `stop()`. */
  const countDownloads = () => {
    const counter = r.registry.downloadCounter;
    const count = counter.count.bind(counter);
    const watch = { seen: 0, stop: () => (counter.count = count) };
    counter.count = (name, version) => {
      watch.seen++;
      count(name, version);
    };
    return watch;
  };

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

  it("a download cancelled over HTTP/2 closes its file, on the lean path and on fastify's route", async () => {
    const openCrateFiles = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          const target = readlinkSync(`/proc/self/fd/${fd}`);
          return target.startsWith(r.dataDir) && target.endsWith('.crate');
        } catch {
          return false; // closed meanwhile
        }
      }).length;
    // Every download opens its file before it is counted: the count says when all were opened.
    const counts = countDownloads();
    const exchange = await rawConnection(port);
    try {
      exchange.socket.write(
        `GET /index/config.json HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${r.adminToken}\r\n${UPGRADE_HEADERS}\r\n`,
      );
      await until(exchange, '101 Switching Protocols');
      const frames: Buffer[] = [PREFACE, EMPTY_SETTINGS];
      const downloads = 40;
      for (let i = 0; i < downloads; i++) {
        const stream = 3 + 2 * i;
        // `%5F` is fastify's route (the lean path leaves escapes to it), `_` the lean path.
        const path = `/api/v1/crates/h2c${i % 2 === 0 ? '_' : '%5F'}crate/1.0.0/download`;
        const fields: [string, string][] = [
          [':method', 'GET'],
          [':scheme', 'http'],
          [':path', path],
          [':authority', '127.0.0.1'],
          ['authorization', r.adminToken],
        ];
        frames.push(requestFrames(stream, fields), cancel(stream));
      }
      exchange.socket.write(Buffer.concat(frames));
      await eventually(() => assert.equal(counts.seen, downloads));
      await eventually(() => assert.equal(openCrateFiles(), 0, 'files of cancelled downloads left open'));
    } finally {
      counts.stop();
      exchange.socket.destroy();
    }
  });

  it('answers a download whose file is gone or is not a file with a 500 over HTTP/2 as over HTTP/1.1, uncounted', async () => {
    const blobFile = async (crate: string) => {
      await r.publishAsAdmin(crate, '1.0.0');
      return join(r.dataDir, 'blobs', (await r.registry.metadata.crates.findVersionBlob(crate, '1.0.0'))!.blobKey);
    };
    rmSync(await blobFile('h2c_gone'));
    const folder = await blobFile('h2c_folder');
    rmSync(folder);
    mkdirSync(folder);
    const counts = countDownloads();
    try {
      const urls = ['h2c_gone', 'h2c_folder'].map((crate) => `${url}/api/v1/crates/${crate}/1.0.0/download`);
      const asCargo = ['-H', `Authorization: ${r.adminToken}`];
      const http2 = await curl(join(dir, 'broken2'), ['--http2', ...asCargo], urls);
      const http1 = await curl(join(dir, 'broken1'), ['--http1.1', ...asCargo], urls);
      for (const [i, h2] of http2.entries()) {
        assert.equal(h2.httpVersion, '2');
        assert.equal(h2.status, 500, h2.url);
        assert.match(JSON.parse(h2.body.toString()).errors[0].detail, /^internal server error/);
        assert.equal(h2.headers.etag, undefined);
        assert.deepEqual(comparable(h2.headers), comparable(http1[i]!.headers), h2.url);
      }
      assert.equal(counts.seen, 0, 'a download answered without its file is not counted');
    } finally {
      counts.stop();
    }
  });

  it('refuses a token revoked while its HTTP/2 connection stays open', async () => {
    // The token check remembers an HTTP/2 session's last header (token-authenticator.ts, keyed by
    // the session rather than the socket): a revocation must reach that session's next stream.
    const { token, record } = await r.registry.accounts.createToken('admin', 'revoked during an HTTP/2 session');
    const exchange = await rawConnection(port);
    const FILE = '"name":"h2c_crate"';
    const REFUSED = 'token rejected: the token is unknown or revoked';
    let nextStream = 3;
    /** Sends one more index read on this connection; resolves with what the server sent for it. */
    const read = async (): Promise<string> => {
      const from = exchange.received().length;
      const fields: [string, string][] = [
        [':method', 'GET'],
        [':scheme', 'http'],
        [':path', '/index/h2/c_/h2c_crate'],
        [':authority', '127.0.0.1'],
        ['authorization', token],
      ];
      exchange.socket.write(requestFrames(nextStream, fields));
      nextStream += 2;
      let answer = '';
      await eventually(() => {
        answer = exchange.received().subarray(from).toString('latin1');
        assert.ok(answer.includes(FILE) || answer.includes(REFUSED), `no answer yet: ${JSON.stringify(answer)}`);
      });
      return answer;
    };
    try {
      exchange.socket.write(`GET /index/h2/c_/h2c_crate HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${token}\r\n${UPGRADE_HEADERS}\r\n`);
      await until(exchange, '101 Switching Protocols');
      exchange.socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
      await until(exchange, FILE);
      // Two more streams: the second is answered from the session's remembered header.
      for (let i = 0; i < 2; i++) assert.ok((await read()).includes(FILE));
      await r.registry.accounts.revokeToken(record.id);
      await eventually(async () => {
        const answer = await read();
        assert.ok(answer.includes(REFUSED) && !answer.includes(FILE), `still served: ${JSON.stringify(answer)}`);
      });
      assert.equal(exchange.socket.destroyed, false, 'the same connection');
    } finally {
      exchange.socket.destroy();
    }
  });

  it('refuses over HTTP/2 a method that HTTP/1.1 refuses', async () => {
    const exchange = await rawConnection(port);
    exchange.socket.write(`GET /index/config.json HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}\r\n`);
    await until(exchange, '101 Switching Protocols');
    const fields: [string, string][] = [
      [':method', 'FOO'],
      [':scheme', 'http'],
      [':path', '/index/h2/c_/h2c_crate'],
      [':authority', '127.0.0.1'],
    ];
    exchange.socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS, requestFrames(3, fields)]));
    await until(exchange, '"detail":"`FOO` is not an HTTP method"');
    exchange.socket.destroy();
  });

  it('reads two If-None-Match fields over HTTP/2 as HTTP/1.1 does', async () => {
    const etag = (await r.request({ method: 'GET', url: '/index/h2/c_/h2c_crate', token: r.adminToken })).headers.etag as string;
    const validators = ['-H', 'If-None-Match: "other"', '-H', `If-None-Match: ${etag}`, '-H', `Authorization: ${r.adminToken}`];
    const [http2] = await curl(join(dir, 'inm2'), ['--http2', ...validators], [`${url}/index/h2/c_/h2c_crate`]);
    const [http1] = await curl(join(dir, 'inm1'), ['--http1.1', ...validators], [`${url}/index/h2/c_/h2c_crate`]);
    assert.equal(http1!.status, 304);
    assert.equal(http2!.httpVersion, '2');
    assert.equal(http2!.status, 304);
  });

  it('closing the server closes a connection still waiting for its preface', async () => {
    const own = buildApp(r.registry, { publicUrl: () => PUBLIC_URL, logger: false });
    await own.listen({ port: 0, host: '127.0.0.1' });
    const exchange = await rawConnection((own.server.address() as AddressInfo).port);
    try {
      exchange.socket.write(`GET /index/config.json HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}\r\n`);
      await until(exchange, '101 Switching Protocols');
      // Well within the 10 s the preface may take.
      await withinOrHang(own.close(), 3_000, 'the server closing');
      await withinOrHang(exchange.closed, 3_000, 'the waiting connection closing');
    } finally {
      exchange.socket.destroy();
      own.server.closeAllConnections();
    }
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

  /**
   * A plain server that echoes what it received, with short waits for the preface and on idle
   * HTTP/2 connections; `/slow` answers after 300 ms.
   */
  async function echoServer(maxHeaderSize?: number): Promise<{ port: number; server: Server }> {
    const echo = (req: IncomingMessage, res: ServerResponse) => {
      const body = JSON.stringify({ version: req.httpVersion, big: String(req.headers['x-big'] ?? '').length });
      if (req.url === '/slow') setTimeout(() => res.end(body), 300);
      else res.end(body);
    };
    const http1 = createServer({ maxHeaderSize }, echo);
    acceptH2cUpgrades(http1, echo, { prefaceTimeoutMs: 200, idleTimeoutMs: 200 });
    await new Promise<void>((done) => http1.listen(0, '127.0.0.1', done));
    servers.push(http1);
    return { port: (http1.address() as AddressInfo).port, server: http1 };
  }

  const connections = (server: Server) =>
    new Promise<number>((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));

  it('releases an idle HTTP/2 connection whose client never closes its side', async () => {
    const { port, server } = await echoServer();
    const exchange = await rawConnection(port, true);
    exchange.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}\r\n`);
    await until(exchange, '101 Switching Protocols');
    exchange.socket.write(Buffer.concat([PREFACE, EMPTY_SETTINGS]));
    await until(exchange, '"version":"2.0"');
    assert.equal(await connections(server), 1);
    // Idle for 200 ms: closed (GOAWAY), then released although the client keeps its side open.
    await eventually(async () => assert.equal(await connections(server), 0));
  });

  it('switches an upgrade pipelined behind another request only after that answer', async () => {
    const { port } = await echoServer();
    const exchange = await rawConnection(port);
    exchange.socket.write(`GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}\r\n`);
    await until(exchange, '101 Switching Protocols');
    const received = exchange.received().toString('latin1');
    assert.match(received, /^HTTP\/1\.1 200 OK\r\n/, 'the first answer first');
    assert.ok(received.indexOf('"version":"1.1"') < received.indexOf('101 Switching'), received);
    exchange.socket.destroy();

    // A client that resets the connection while the first answer is pending loses only its own.
    const reset = await rawConnection(port);
    reset.socket.write(`GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}\r\n`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    reset.socket.resetAndDestroy();
    await new Promise((resolve) => setTimeout(resolve, 500));
    const after = await rawConnection(port);
    after.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    await withinOrHang(after.closed, 5_000, 'an answer after the reset');
    assert.match(after.received().toString('latin1'), /^HTTP\/1\.1 200 /);
  });

  it('answers over HTTP/1.1 an upgrade with more fields than an HTTP/2 request may have', async () => {
    const { port } = await echoServer();
    const exchange = await rawConnection(port);
    const many = Array.from({ length: 130 }, (_, i) => `X-Field-${i}: ${i}\r\n`).join('');
    exchange.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${many}${UPGRADE_HEADERS}\r\n`);
    await withinOrHang(exchange.closed, 10_000, 'the connection closing after its answer');
    assert.match(exchange.received().toString('latin1'), /^HTTP\/1\.1 200 [\s\S]*"version":"1\.1"/);
  });

  it('carries a header block larger than one frame (CONTINUATION) to the upgraded stream', async () => {
    ensureDebianPackages(['curl']);
    const { port } = await echoServer(64 * 1024);
    const [echoed] = await curl(
      makeTempDir('cratekeeper-h2c-big-'),
      ['--http2', '-H', `X-Big: ${'b'.repeat(40_000)}`],
      [`http://127.0.0.1:${port}/`],
    );
    assert.equal(echoed!.httpVersion, '2');
    assert.deepEqual(JSON.parse(echoed!.body.toString()), { version: '2.0', big: 40_000 });
  });

  it('closes a connection that sends nothing after the 101', async () => {
    const exchange = await rawConnection((await echoServer()).port);
    exchange.socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n${UPGRADE_HEADERS}\r\n`);
    await until(exchange, '101 Switching Protocols');
    await withinOrHang(exchange.closed, 5_000, 'the silent connection closing');
  });

  it('reads the connection preface strictly', () => {
    const settings = (payload: number[], flags = 0, stream = 0) =>
      Buffer.concat([PREFACE, Buffer.from([0, 0, payload.length, 4, flags, 0, 0, 0, stream]), Buffer.from(payload)]);
    const six = [0, 3, 0, 0, 0, 100];
    const header = { needs: PREFACE.length + 9 };
    assert.deepEqual(prefaceLength(Buffer.alloc(0)), header);
    assert.deepEqual(prefaceLength(PREFACE.subarray(0, 10)), header);
    assert.equal(prefaceLength(Buffer.from('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n')), 'invalid');
    assert.equal(prefaceLength(settings(six)), PREFACE.length + 9 + 6);
    assert.equal(prefaceLength(Buffer.concat([settings(six), Buffer.from('more')])), PREFACE.length + 9 + 6);
    assert.deepEqual(prefaceLength(settings(six).subarray(0, PREFACE.length + 12)), { needs: PREFACE.length + 9 + 6 });
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
