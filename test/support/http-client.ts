// Small HTTP helpers over real sockets, for tests against a running server.

import { request } from 'node:http';

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

export function publish(url: string, token: string, body: Buffer): Promise<HttpResult> {
  return httpRequest(`${url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body });
}

export function errorDetail(result: HttpResult): string {
  return (JSON.parse(result.body.toString()) as { errors: { detail: string }[] }).errors[0]!.detail;
}
