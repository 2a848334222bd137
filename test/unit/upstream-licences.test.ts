// Licence facts of upstream versions: from the upstream's web API in one request when it has one,
// else from each .crate; kept in the blob store so a restart asks nothing again; a read waits for
// the newest few unknown versions only, and the rest stay unknown (held back) until looked up.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { FsBlobStore } from '../../src/adapters/blob/fs-store.js';
import type { DeclaredLicence } from '../../src/domain/licence-policy.js';
import { UpstreamLicences, type LicenceSource } from '../../src/mirror/upstream-licences.js';
import type { UpstreamResponse } from '../../src/mirror/upstream-http.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const versions = (...vers: string[]) => vers.map((v) => ({ name: 'demo', vers: v, yanked: false }));

/** A fake upstream: an optional crates.io-style API, and .crate files whose "bytes" name their licence. */
function fakeUpstream(api: Record<string, string | null> | undefined) {
  const calls = { api: 0, crates: [] as string[] };
  const upstream: LicenceSource = {
    name: 'up',
    async apiGet(path: string): Promise<UpstreamResponse | undefined> {
      calls.api++;
      assert.equal(path, 'api/v1/crates/demo/versions');
      if (api === undefined) return { status: 404, headers: {}, body: Buffer.from('{"errors":[]}'), url: path };
      const body = { versions: Object.entries(api).map(([num, license]) => ({ num, license })) };
      return { status: 200, headers: {}, body: Buffer.from(JSON.stringify(body)), url: path };
    },
    async crate(_name: string, version: string) {
      calls.crates.push(version);
      const bytes = Buffer.from(version === '0.9.0' ? 'file:LICENSE' : 'MIT');
      return { bytes, size: bytes.length, cksum: '' };
    },
  };
  return { upstream, calls };
}

const readCrateLicence = async (crate: Buffer): Promise<DeclaredLicence> => {
  const text = crate.toString();
  return text.startsWith('file:') ? { license: null, licenseFile: text.slice(5) } : { license: text, licenseFile: null };
};

function licences(upstream: LicenceSource, blobs: FsBlobStore, options: { waitForNewest?: number } = {}) {
  return new UpstreamLicences({
    upstreams: { get: (name) => (name === upstream.name ? upstream : undefined) },
    blobs,
    readCrateLicence,
    log: pino({ level: 'silent' }),
    ...options,
  });
}

describe('upstream licence facts', () => {
  it("takes every version's licence from the web API in one request, and reads a .crate only where it has none", async () => {
    const { upstream, calls } = fakeUpstream({ '1.0.0': 'MIT OR Apache-2.0', '1.1.0': 'GPL-3.0-only', '0.9.0': null });
    const facts = licences(upstream, new FsBlobStore(makeTempDir('ck-licences-')));
    const before = facts.revision();
    const declared = await facts.declared('up', 'demo', versions('0.9.0', '1.0.0', '1.1.0'));
    assert.deepEqual(declared.get('1.0.0'), { license: 'MIT OR Apache-2.0' });
    assert.deepEqual(declared.get('1.1.0'), { license: 'GPL-3.0-only' });
    assert.deepEqual(declared.get('0.9.0'), { license: null, licenseFile: 'LICENSE' });
    assert.equal(calls.api, 1);
    assert.deepEqual(calls.crates, ['0.9.0']);
    assert.notEqual(facts.revision(), before, 'learning facts must change the revision');
  });

  it('reads .crate files when the upstream has no API, and keeps what it learnt in the blob store', async () => {
    const dir = makeTempDir('ck-licences-');
    const { upstream, calls } = fakeUpstream(undefined);
    const first = licences(upstream, new FsBlobStore(dir));
    const declared = await first.declared('up', 'demo', versions('1.0.0', '1.1.0'));
    assert.deepEqual(declared.get('1.1.0'), { license: 'MIT', licenseFile: null });
    assert.deepEqual(calls.crates.sort(), ['1.0.0', '1.1.0']);
    await first.flush();

    // Another process (a restart, a replica) finds them in the blob store and asks nothing.
    const again = fakeUpstream(undefined);
    const second = licences(again.upstream, new FsBlobStore(dir));
    await answersFromStore(second, again.calls);
  });

  it('waits for the newest unknown versions only; the others stay unknown until their look-up lands', async () => {
    const { upstream, calls } = fakeUpstream(undefined);
    const gate: Array<() => void> = [];
    const slow: LicenceSource = {
      ...upstream,
      apiGet: upstream.apiGet.bind(upstream),
      async crate(name, version) {
        if (version.startsWith('0.')) await new Promise<void>((resolve) => gate.push(resolve));
        return upstream.crate(name, version);
      },
    };
    const facts = licences(slow, new FsBlobStore(makeTempDir('ck-licences-')), { waitForNewest: 2 });
    const all = versions('0.1.0', '0.2.0', '1.0.0', '2.0.0');
    const declared = await facts.declared('up', 'demo', all);
    assert.deepEqual([...declared.keys()].sort(), ['1.0.0', '2.0.0']);
    assert.equal(declared.has('0.1.0'), false, 'an old version still being looked up is unknown, not allowed');
    for (const release of gate.splice(0)) release();
    const later = await facts.declared('up', 'demo', all);
    assert.deepEqual([...later.keys()].sort(), ['0.1.0', '0.2.0', '1.0.0', '2.0.0']);
    assert.equal(calls.crates.filter((v) => v === '0.1.0').length, 1, 'a version is looked up once');
  });
});

/** The second instance answers from the stored facts: no API call, no .crate read. */
async function answersFromStore(facts: UpstreamLicences, calls: { api: number; crates: string[] }): Promise<void> {
  const declared = await facts.declared('up', 'demo', versions('1.0.0', '1.1.0'));
  assert.deepEqual(declared.get('1.0.0'), { license: 'MIT', licenseFile: null });
  assert.equal(calls.api, 0);
  assert.deepEqual(calls.crates, []);
}
