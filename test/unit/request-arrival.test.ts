// The arrival limit of request-arrival.ts on bare servers: it ends only a request that has not
// arrived whole in time; a request that arrived and is still being answered is left to finish.

import assert from 'node:assert/strict';
import { createServer, request as http1Request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { limitRequestArrival } from '../../src/http/request-arrival.js';
import { withinOrHang } from '../support/hang-guard.js';
import { http2Answer } from '../support/http2-answer.js';

// Long enough that the whole request's body, sent right after its head, has arrived by then even
// on a loaded machine.
const LIMIT_MS = 1_000;
/** How long the handler takes to answer once it has read the body: longer than the limit. */
const SLOW_ANSWER_MS = 2 * LIMIT_MS;

/** Reads the whole body, then answers 200 with it after SLOW_ANSWER_MS. */
async function slowEcho(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  await sleep(SLOW_ANSWER_MS);
  if (!res.writableEnded && !(res as ServerResponse).destroyed) (res as ServerResponse).end(`got ${body}`);
}

type Answer = { status: number; body: string };

function assertOnlyStalledRefused([whole, stalled]: [Answer, Answer]): void {
  assert.deepEqual(whole, { status: 200, body: 'got whole' });
  assert.equal(stalled.status, 408);
  assert.match(stalled.body, /did not arrive within the time this server allows/);
}

describe('request arrival limit', () => {
  const closers: Array<() => void> = [];
  after(() => closers.forEach((close) => close()));

  it('HTTP/2: answers a request that arrived whole, however long its answer takes, and 408s a stalled one', async () => {
    const server = createHttp2Server((req, res) => void slowEcho(req, res).catch(() => {}));
    limitRequestArrival(server, LIMIT_MS);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const session = connectHttp2(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    closers.push(() => {
      session.destroy();
      server.close();
    });
    const exchange = (end: boolean) => {
      const stream = session.request({ ':method': 'POST', ':path': '/' }, { endStream: false });
      const answer = http2Answer(stream);
      if (end) stream.end('whole');
      else stream.write('part');
      return answer;
    };
    assertOnlyStalledRefused(await withinOrHang(Promise.all([exchange(true), exchange(false)]), 30_000, 'both answers'));
  });

  it('HTTP/1.1: answers a request that arrived whole, however long its answer takes, and 408s a stalled one', async () => {
    const server = createServer((req, res) => void slowEcho(req, res).catch(() => {}));
    limitRequestArrival(server, LIMIT_MS);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    closers.push(() => server.close());
    const exchange = (end: boolean) =>
      new Promise<Answer>((resolve, reject) => {
        const req = http1Request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'content-length': '5' } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
        if (end) req.end('whole');
        else req.write('part');
      });
    assertOnlyStalledRefused(await withinOrHang(Promise.all([exchange(true), exchange(false)]), 30_000, 'both answers'));
  });
});
