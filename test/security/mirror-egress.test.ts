// Where a mirror's secrets go: an upstream's credentials (`auth`) and extra headers (`headers.*`)
// reach only the origin of its index_url, or an origin listed in its `credential_origins`. A
// config.json whose `dl` names another host, or a download that redirects to one, gets the .crate
// without them. Two local HTTP servers play the upstream and the foreign download host, each
// recording the headers it receives; the registry runs in process.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const CRATE = Buffer.from('pretend .crate bytes for the egress test\n');
const CKSUM = createHash('sha256').update(CRATE).digest('hex');
const UPSTREAM_SECRET = 'upstream-secret-7d1f';
const INDEX_KEY = 'index-key-19aa';
const DOWNLOAD_KEY = 'download-key-4c02';

interface Seen {
  path: string;
  authorization: string | undefined;
  indexKey: string | undefined;
  downloadKey: string | undefined;
}

interface Recorder {
  server: Server;
  origin: string;
  seen: Seen[];
}

async function recorder(
  handle: (path: string) => { status: number; headers?: Record<string, string>; body?: Buffer | string },
): Promise<Recorder> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const h: IncomingHttpHeaders = req.headers;
    seen.push({
      path: req.url!,
      authorization: h.authorization,
      indexKey: h['x-index-key'] as string | undefined,
      downloadKey: h['x-download-key'] as string | undefined,
    });
    const answer = handle(req.url!);
    res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe("mirror egress: credentials and extra headers stay with the upstream's origin", () => {
  let upstream: Recorder;
  let foreign: Recorder;
  let r: TestRegistry;
  /** Each mirror's config.json `dl`, by its index path prefix on the upstream server. */
  const dlOf: Record<string, string> = {};

  const line = JSON.stringify({ name: 'egress', vers: '1.0.0', deps: [], cksum: CKSUM, features: {}, yanked: false }) + '\n';
  const indexPath = indexPathOf('egress');

  before(async () => {
    foreign = await recorder((path) => (path.endsWith('.crate') ? { status: 200, body: CRATE } : { status: 404 }));
    upstream = await recorder((path) => {
      const m = /^\/([a-z-]+)\/index\/(.*)$/.exec(path);
      if (m && m[2] === 'config.json') return { status: 200, body: JSON.stringify({ dl: dlOf[m[1]!] }) };
      if (m && m[2] === indexPath) return { status: 200, body: line };
      if (path.startsWith('/files/')) return { status: 200, body: CRATE };
      if (path.startsWith('/redirect/')) return { status: 302, headers: { location: `${foreign.origin}/from-bounce/egress-1.0.0.crate` } };
      return { status: 404 };
    });
    dlOf['foreign'] = `${foreign.origin}/crates/{crate}/{version}.crate`;
    dlOf['own'] = `${upstream.origin}/files/{crate}/{version}.crate`;
    dlOf['bounce'] = `${upstream.origin}/redirect/{crate}/{version}.crate`;
    dlOf['listed'] = `${foreign.origin}/listed/{crate}/{version}.crate`;

    const dir = makeTempDir('cratekeeper-egress-');
    const netrc = join(dir, 'netrc');
    writeFileSync(netrc, `machine ${new URL(upstream.origin).host} login mirror password ${UPSTREAM_SECRET}\n`, { mode: 0o600 });
    const mirror = (name: string, extra = '') => `
[[upstreams]]
name = "${name}"
index_url = "${upstream.origin}/${name}/index/"
auth = { netrc = "${netrc}", pattern = "bearer" }
headers.index = { "X-Index-Key" = "${INDEX_KEY}" }
headers.download = { "X-Download-Key" = "${DOWNLOAD_KEY}" }
${extra}
`;
    r = await startTestRegistry(
      {},
      mirror('foreign') + mirror('own') + mirror('bounce') + mirror('listed', `credential_origins = ["${foreign.origin}"]`),
    );
  });

  after(async () => {
    await r?.close();
    upstream?.server.close();
    foreign?.server.close();
  });

  const download = (mirror: string) =>
    r.request({ method: 'GET', url: `/mirrors/${mirror}/crates/egress/1.0.0/download`, token: r.adminToken });

  it('a dl on a foreign host gets the .crate without our secrets; the index requests carried them', async () => {
    const res = await download('foreign');
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.rawPayload.toString(), CRATE.toString());
    assert.deepEqual(foreign.seen, [
      { path: '/crates/egress/1.0.0.crate', authorization: undefined, indexKey: undefined, downloadKey: undefined },
    ]);
    const indexReads = upstream.seen.filter((s) => s.path.startsWith('/foreign/index/'));
    assert.ok(indexReads.length >= 2, JSON.stringify(upstream.seen));
    for (const s of indexReads)
      assert.deepEqual(s, { path: s.path, authorization: `Bearer ${UPSTREAM_SECRET}`, indexKey: INDEX_KEY, downloadKey: undefined });
  });

  it("a dl on the upstream's own origin still carries the credentials and the download headers", async () => {
    const res = await download('own');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      upstream.seen.filter((s) => s.path.startsWith('/files/')),
      [{ path: '/files/egress/1.0.0.crate', authorization: `Bearer ${UPSTREAM_SECRET}`, indexKey: undefined, downloadKey: DOWNLOAD_KEY }],
    );
  });

  it('a redirect from the upstream to a foreign host does not carry them either', async () => {
    const before = foreign.seen.length;
    const res = await download('bounce');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(
      upstream.seen.filter((s) => s.path.startsWith('/redirect/')),
      [
        {
          path: '/redirect/egress/1.0.0.crate',
          authorization: `Bearer ${UPSTREAM_SECRET}`,
          indexKey: undefined,
          downloadKey: DOWNLOAD_KEY,
        },
      ],
    );
    assert.deepEqual(foreign.seen.slice(before), [
      { path: '/from-bounce/egress-1.0.0.crate', authorization: undefined, indexKey: undefined, downloadKey: undefined },
    ]);
  });

  it('an origin listed in credential_origins gets them', async () => {
    const before = foreign.seen.length;
    const res = await download('listed');
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(foreign.seen.slice(before), [
      { path: '/listed/egress/1.0.0.crate', authorization: `Bearer ${UPSTREAM_SECRET}`, indexKey: undefined, downloadKey: DOWNLOAD_KEY },
    ]);
  });
});
