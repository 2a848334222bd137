// One attempt at a webhook delivery: a POST with a time limit for the whole exchange, no redirect
// followed (a 3xx counts as a failure), and at most `responseLimit` bytes of the answer read (kept
// for the delivery log); the rest is not read, and the connection is closed.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface WebhookAttempt {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  responseLimit: number;
}

/** `status` when an answer came; `error` when none did (refused, reset, timed out) or it was not 2xx. */
export interface WebhookAttemptResult {
  ok: boolean;
  status: number | null;
  error: string | null;
}

export type WebhookSend = (attempt: WebhookAttempt) => Promise<WebhookAttemptResult>;

function describeAnswer(response: IncomingMessage, start: Buffer): string {
  const text = start
    .toString('utf8')
    .replace(/[\0-\x1f\x7f]+/g, ' ')
    .trim();
  const location =
    response.statusCode! >= 300 && response.statusCode! < 400 ? ` (redirect to ${response.headers.location ?? '?'}, not followed)` : '';
  return `answered ${response.statusCode}${location}${text ? `: ${text}` : ''}`;
}

export const sendWebhook: WebhookSend = (attempt) =>
  new Promise((resolve) => {
    const url = new URL(attempt.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const settle = (result: WebhookAttemptResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const body = Buffer.from(attempt.body);
    const request = send(url, {
      method: 'POST',
      headers: { ...attempt.headers, 'content-type': 'application/json', 'content-length': String(body.length) },
      agent: false,
    });
    const timer = setTimeout(
      () => settle({ ok: false, status: null, error: `no answer within ${attempt.timeoutMs} ms` }),
      attempt.timeoutMs,
    );
    request.on('error', (error: NodeJS.ErrnoException) => settle({ ok: false, status: null, error: error.code ?? error.message }));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let read = 0;
      const done = () => {
        const start = Buffer.concat(chunks).subarray(0, attempt.responseLimit);
        const ok = response.statusCode! >= 200 && response.statusCode! < 300;
        settle({ ok, status: response.statusCode!, error: ok ? null : describeAnswer(response, start) });
      };
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        read += chunk.length;
        if (read >= attempt.responseLimit) done();
      });
      response.on('end', done);
      response.on('error', done);
    });
    request.end(body);
  });
