// Download counts through the real download route: every successful download counts once for its
// version and day; a refused download (an access rule, an unknown version) counts nothing.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

describe('download counts', () => {
  let r: TestRegistry;
  let alice: string;
  const today = () => new Date().toISOString().slice(0, 10);
  const download = async (path: string, token: string) =>
    (await r.request({ method: 'GET', url: `/api/v1/crates/${path}/download`, token })).statusCode;

  before(async () => {
    r = await startTestRegistry({}, '[[access.rules]]\ncrates = ["hidden"]\nread = ["admin"]\n');
    alice = await r.userToken('alice');
    for (const [name, version] of [
      ['counted', '1.0.0'],
      ['counted', '1.1.0'],
      ['hidden', '1.0.0'],
    ] as const) {
      await r.publishAsAdmin(name, version);
    }
  });
  after(() => r.close());

  it('counts successful downloads per version and day, and nothing for refused ones', async () => {
    const day = today();
    assert.equal(await download('counted/1.0.0', alice), 200);
    assert.equal(await download('Counted/1.0.0', alice), 200); // the crate's name in another case
    assert.equal(await download('counted/1.1.0', alice), 200);
    assert.equal(await download('hidden/1.0.0', alice), 404); // an access rule hides it from alice
    assert.equal(await download('counted/9.9.9', alice), 404);
    assert.equal(await download('missing/1.0.0', alice), 404);
    assert.equal((await r.request({ method: 'GET', url: '/api/v1/crates/counted/1.0.0/download' })).statusCode, 401);

    // Nothing reaches the database on the request path.
    assert.deepEqual(await r.registry.downloadCounts.perVersion('counted'), []);
    await r.registry.downloadCounter.flush();
    assert.deepEqual(await r.registry.downloadCounts.perVersion('counted'), [
      { version: '1.1.0', count: 1 },
      { version: '1.0.0', count: 2 },
    ]);
    assert.deepEqual(await r.registry.downloadCounts.daily('counted', day), [{ day, count: 3 }]);
    assert.deepEqual(await r.registry.downloadCounts.perVersion('hidden'), []);
    assert.deepEqual(await r.registry.downloadCounts.perVersion('missing'), []);

    // The admin may read the hidden crate: that download counts.
    assert.equal(await download('hidden/1.0.0', r.adminToken), 200);
    await r.registry.downloadCounter.flush();
    assert.deepEqual(await r.registry.downloadCounts.perVersion('hidden'), [{ version: '1.0.0', count: 1 }]);
  });
});
