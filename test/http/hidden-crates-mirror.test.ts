// With an upstream that serves the main index, a crate name that no local crate has is looked up on
// that upstream. A local crate hidden from the caller must cost the same upstream lookups before
// its answer (the index file, a download, `policy check`, a publish that depends on it): otherwise
// how long the answer takes tells the caller that the hidden crate exists.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { dependency, publishBodyFor } from '../support/crate-fixture.js';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';

describe('a hidden local crate and a main-index upstream', () => {
  /** The paths the upstream was asked for. */
  const asked: string[] = [];
  let upstream: Server;
  let r: TestRegistry;
  let bob: string;

  before(async () => {
    // An upstream that has no crates at all.
    upstream = createServer((req, res) => {
      asked.push(req.url ?? '');
      if (req.url === '/index/config.json') return res.end(JSON.stringify({ dl: 'http://127.0.0.1:9/{crate}/{version}' }));
      res.statusCode = 404;
      res.end();
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    r = await startTestRegistry(
      {},
      `[[upstreams]]\nname = "up"\nindex_url = "${url}/index/"\nindex_ttl_seconds = 0\nmain_index = true\n\n` +
        `[[access.rules]]\ncrates = ["secret"]\nread = ["alice"]\n`,
    );
    await r.publishAsAdmin('secret', '1.0.0');
    await r.userToken('alice');
    bob = await r.userToken('bob');
  });
  after(async () => {
    await r.close();
    await new Promise((resolve) => upstream.close(resolve));
  });

  /** The answer (the name in it replaced), and the upstream requests that answering made. */
  async function probe(name: string, request: (name: string) => () => ReturnType<TestRegistry['request']>) {
    asked.length = 0;
    const res = await request(name)();
    return { status: res.statusCode, body: res.body.replaceAll(name, '<name>'), upstreamRequests: asked.length };
  }

  const probes: Record<string, (name: string) => () => ReturnType<TestRegistry['request']>> = {
    'the index file': (name) => () => r.request({ method: 'GET', url: `/index/se/cr/${name}`, token: bob }),
    'a download': (name) => () => r.request({ method: 'GET', url: `/api/v1/crates/${name}/1.0.0/download`, token: bob }),
    'policy check': (name) => () =>
      r.request({
        method: 'POST',
        url: '/api/v1/policy/check',
        token: bob,
        payload: { packages: [{ name, version: '1.0.0', source: `sparse+${PUBLIC_URL}/index/` }] },
      }),
  };

  for (const [what, request] of Object.entries(probes)) {
    it(`asks the upstream for ${what} of the hidden crate as for a missing one`, async () => {
      const missing = await probe('secrex', request);
      assert.ok(missing.upstreamRequests > 0, 'a missing name is looked up on the upstream');
      assert.deepEqual(await probe('secret', request), missing);
    });
  }

  it('asks the upstream for a dependency on the hidden crate, when publishing, as for a missing one', async () => {
    const publishDependingOn = (name: string) => async () =>
      r.request({
        method: 'PUT',
        url: '/api/v1/crates/new',
        token: bob,
        payload: await publishBodyFor('bobs-crate', '1.0.0', { deps: [dependency(name, '^1')] }),
      });
    const missing = await probe('secrex', publishDependingOn);
    assert.equal(missing.status, 400);
    assert.ok(missing.upstreamRequests > 0, 'a missing name is looked up on the upstream');
    assert.deepEqual(await probe('secret', publishDependingOn), missing);
  });
});
