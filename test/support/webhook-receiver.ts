// A webhook receiver for tests: node:http on 127.0.0.1, recording every delivery, answering 2xx or
// 500 as the test says, and able to close and listen again on the same port (an endpoint that was
// down). `verify` checks a delivery as docs/webhooks.md tells receivers to, written here on its own
// (not with the server's signing code), so a signature the docs do not describe fails.

import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedDelivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The status this receiver answered. */
  answered: number;
}

export interface WebhookPayload {
  id: string;
  event: string;
  crate: string | null;
  version: string | null;
  actor: string | null;
  time: string;
  detail: string | null;
  registry: string;
}

/** Checks the signature header over `<t>.<body>` and that `t` is within `toleranceSeconds` of `nowSeconds`. */
export function verifyDelivery(delivery: ReceivedDelivery, secret: string, nowSeconds: number, toleranceSeconds = 300): WebhookPayload {
  const header = delivery.headers['x-cratekeeper-signature-256'];
  assert.equal(typeof header, 'string', 'the delivery carries X-Cratekeeper-Signature-256');
  const match = /^t=(\d+),sha256=([0-9a-f]{64})$/.exec(header as string);
  assert.ok(match, `the signature header has the form t=<unix>,sha256=<hex>: ${String(header)}`);
  const t = Number(match[1]);
  assert.ok(Math.abs(nowSeconds - t) <= toleranceSeconds, `the signed timestamp ${t} is within ${toleranceSeconds} s of ${nowSeconds}`);
  const expected = createHmac('sha256', secret)
    .update(Buffer.concat([Buffer.from(`${t}.`), delivery.body]))
    .digest();
  assert.ok(timingSafeEqual(expected, Buffer.from(match[2]!, 'hex')), 'the HMAC-SHA256 over `<t>.<body>` matches');
  assert.match(String(delivery.headers['x-cratekeeper-delivery']), /^[0-9a-f-]{36}$/, 'a delivery id header');
  assert.equal(delivery.headers['content-type'], 'application/json');
  const payload = JSON.parse(delivery.body.toString('utf8')) as WebhookPayload;
  assert.equal(delivery.headers['x-cratekeeper-event'], payload.event);
  return payload;
}

export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  /** What the next requests get. */
  status = 204;
  /** While true, requests are recorded but not answered (a receiver that hangs) until `release`. */
  hold = false;
  private held: (() => void)[] = [];
  private server: Server | undefined;
  private port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  async listen(): Promise<this> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const answer = () => {
          this.deliveries.push({ headers: request.headers, body: Buffer.concat(chunks), answered: this.status });
          response.writeHead(this.status, { 'content-type': 'text/plain' }).end(this.status >= 300 ? 'receiver is failing on purpose' : '');
        };
        if (this.hold) {
          this.heldCount++;
          this.held.push(answer);
        } else answer();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Requests that arrived while holding. */
  heldCount = 0;

  /** Answers the held requests with `status` and stops holding. */
  release(): void {
    this.hold = false;
    for (const answer of this.held.splice(0)) answer();
  }

  /** Stops listening (connections are refused) until `listen` again, on the same port. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The deliveries this receiver accepted (answered 2xx). */
  accepted(): ReceivedDelivery[] {
    return this.deliveries.filter((d) => d.answered < 300);
  }
}
