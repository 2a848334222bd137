// A sparse upstream with one crate, `demo`, whose index lines a test rewrites (versions, and the
// `pubtime` each one carries or not): for the supply-chain policy tests, which move quarantine
// clocks against it.

import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class FakeDemoUpstream {
  lines = new Map<string, { pubtime?: string }>();
  private server: Server | undefined;
  url = '';
  readonly bytes = (version: string) => Buffer.from(`demo ${version} crate bytes`);
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === '/index/config.json') return res.end(JSON.stringify({ dl: `${this.url}/crates/{crate}/{version}.crate` }));
      if (req.url === '/index/de/mo/demo') {
        const body = [...this.lines]
          .map(([vers, extra]) => {
            const cksum = createHash('sha256').update(this.bytes(vers)).digest('hex');
            return JSON.stringify({ name: 'demo', vers, deps: [], cksum, features: {}, yanked: false, ...extra }) + '\n';
          })
          .join('');
        return res.end(body);
      }
      const crate = /^\/crates\/demo\/(.+)\.crate$/.exec(req.url ?? '');
      if (crate) return res.end(this.bytes(crate[1]!));
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }
  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** The versions cargo may resolve to in an index file: those it does not mark yanked. */
export const versionsIn = (body: string) =>
  body
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { vers: string; yanked: boolean })
    .filter((l) => !l.yanked)
    .map((l) => l.vers);
