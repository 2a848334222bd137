// Existence oracles: for a crate a user may not read, every answer of the write API is the one a
// crate that does not exist gets under the same access rule: publishing its name (in any
// spelling), depending on it, yanking it, changing its owners.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { dependency, publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

const ACCESS = `
[[access.rules]]
crates = ["secret*"]
read = ["alice"]
publish = ["alice"]
`;

const answer = (res: { statusCode: number; body: string }, name: string, free: string) => ({
  status: res.statusCode,
  body: res.body.replaceAll(name, '<crate>').replaceAll(free, '<crate>'),
});

describe('a crate the user may not read is answered as one that does not exist', () => {
  let r: TestRegistry;
  let eve: string;
  const publish = (token: string, name: string, version = '1.0.0', overrides = {}) =>
    publishBodyFor(name, version, overrides).then((payload) => r.request({ method: 'PUT', url: '/api/v1/crates/new', token, payload }));

  before(async () => {
    r = await startTestRegistry({}, ACCESS);
    const alice = await r.userToken('alice');
    assert.equal((await publish(alice, 'secret-core')).statusCode, 200);
    eve = await r.userToken('eve');
  });
  after(() => r.close());

  it('publishing the name, in any spelling, gets the refusal a free name gets', async () => {
    const free = await publish(eve, 'secret-free');
    assert.equal(free.statusCode, 403);
    assert.match(free.body, /may not publish new crates matching `secret\*`/);
    for (const spelling of ['secret-core', 'Secret_Core', 'SECRET-CORE']) {
      const res = await publish(eve, spelling);
      assert.deepEqual(answer(res, spelling, 'secret-free'), answer(free, 'secret-free', spelling), spelling);
    }
  });

  it('a dependency on it is refused as a dependency on an unknown crate', async () => {
    const onHidden = await publish(eve, 'eve-tool', '1.0.0', { deps: [dependency('secret-core', '^1')] });
    const onUnknown = await publish(eve, 'eve-tool', '1.0.0', { deps: [dependency('secret-none', '^1')] });
    assert.equal(onHidden.statusCode, 400);
    assert.match(onHidden.body, /no crate named `secret-core` exists in this registry/);
    assert.deepEqual(answer(onHidden, 'secret-core', 'secret-none'), answer(onUnknown, 'secret-none', 'secret-core'));
    // Alice, who may read it, can depend on it.
    const aliceToken = (await r.registry.accounts.createToken('alice', 'again')).token;
    assert.equal((await publish(aliceToken, 'alice-tool', '1.0.0', { deps: [dependency('secret-core', '^1')] })).statusCode, 200);
  });

  it('yank, unyank and owners answer as for a crate that does not exist', async () => {
    const requests = [
      { method: 'DELETE' as const, url: (n: string) => `/api/v1/crates/${n}/1.0.0/yank` },
      { method: 'PUT' as const, url: (n: string) => `/api/v1/crates/${n}/1.0.0/unyank` },
      { method: 'GET' as const, url: (n: string) => `/api/v1/crates/${n}/owners` },
      { method: 'PUT' as const, url: (n: string) => `/api/v1/crates/${n}/owners`, payload: '{"users":["eve"]}' },
      { method: 'DELETE' as const, url: (n: string) => `/api/v1/crates/${n}/owners`, payload: '{"users":["alice"]}' },
    ];
    for (const { method, url, payload } of requests) {
      for (const spelling of ['secret-core', 'Secret_Core']) {
        const hidden = await r.request({ method, url: url(spelling), token: eve, payload });
        const absent = await r.request({ method, url: url('secret-none'), token: eve, payload });
        assert.equal(hidden.statusCode, 404, `${method} ${url(spelling)}`);
        assert.deepEqual(answer(hidden, spelling, 'secret-none'), answer(absent, 'secret-none', spelling), `${method} ${url(spelling)}`);
      }
    }
  });
});
