// `policy check` of a Cargo.lock written under source replacement (`[source.crates-io] replace-with
// = "company"`, as docs/mirroring.md recommends): such a lockfile names crates.io's own source ids,
// and cargo fetches those packages from this registry's upstream of crates.io, so the check must
// judge them as that upstream's, not pass them as `not-served`.
//
// No test reaches the real crates.io: the upstream named `crates-io` first mirrors a local fake
// registry (filling the shared cache), then a second registry on the same data folder declares it
// with crates.io's real index URL, offline, and serves that cache.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { policyCheck } from '@cratekeeper/client/network';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { FakeDemoUpstream, versionsIn } from '../support/fake-demo-upstream.js';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-11-20T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const CRATES_IO_GIT = 'registry+https://github.com/rust-lang/crates.io-index';
const CRATES_IO_SPARSE = 'sparse+https://index.crates.io/';

interface Answer {
  denied: number;
  packages: { name: string; version: string; status: string; served_from?: string; findings: { rule: string }[] }[];
}

describe('policy check under source replacement', () => {
  const upstream = new FakeDemoUpstream();
  let r: TestRegistry;
  let token: string;
  const lockfile = join(makeTempDir('cratekeeper-policy-replaced-'), 'Cargo.lock');

  before(async () => {
    await upstream.start();
    upstream.lines.set('1.0.0', { pubtime: iso(T0 - 10 * DAY) });
    upstream.lines.set('1.1.0', { pubtime: iso(T0 - DAY) });
    const warm = await startTestRegistry(
      {},
      `[[upstreams]]\nname = "crates-io"\nindex_url = "${upstream.url}/index/"\nindex_ttl_seconds = 0\n`,
      { now: () => T0 },
    );
    assert.deepEqual(
      versionsIn((await warm.request({ method: 'GET', url: '/mirrors/crates-io/index/de/mo/demo', token: warm.adminToken })).body),
      ['1.0.0', '1.1.0'],
    );
    const dataDir = warm.dataDir;
    await warm.close();
    r = await startTestRegistry(
      { 'storage.data_dir': dataDir },
      `[[upstreams]]\nname = "crates-io"\nindex_url = "https://index.crates.io/"\noffline = true\nmin_release_age = "3d"\n`,
      { now: () => T0 },
    );
    token = await r.userToken('ci');
    writeFileSync(
      lockfile,
      `version = 4\n\n[[package]]\nname = "app"\nversion = "0.1.0"\n\n` +
        `[[package]]\nname = "demo"\nversion = "1.0.0"\nsource = "${CRATES_IO_GIT}"\nchecksum = "00"\n\n` +
        `[[package]]\nname = "demo"\nversion = "1.1.0"\nsource = "${CRATES_IO_GIT}"\nchecksum = "00"\n\n` +
        `[[package]]\nname = "other"\nversion = "1.0.0"\nsource = "sparse+https://other.example/index/"\nchecksum = "00"\n`,
    );
  });
  after(async () => {
    await r.close();
    await upstream.stop();
  });

  const check = async (packages: { name: string; version: string; source: string }[]): Promise<Answer> => {
    const res = await r.request({ method: 'POST', url: '/api/v1/policy/check', token, payload: { packages } });
    assert.equal(res.statusCode, 200, res.body);
    return JSON.parse(res.body) as Answer;
  };

  it("judges crates.io's source ids, git and sparse, as the upstream that mirrors crates.io", async () => {
    const answer = await check([
      { name: 'demo', version: '1.0.0', source: CRATES_IO_GIT },
      { name: 'demo', version: '1.1.0', source: CRATES_IO_GIT },
      { name: 'demo', version: '1.1.0', source: CRATES_IO_SPARSE },
      { name: 'demo', version: '1.1.0', source: 'sparse+https://index.crates.io' },
      { name: 'demo', version: '1.1.0', source: 'sparse+https://other.example/index/' },
      { name: 'demo', version: '1.1.0', source: 'registry+https://github.com/someone/crates.io-index' },
    ]);
    assert.deepEqual(
      answer.packages.map((p) => [p.status, p.served_from, p.findings.map((f) => f.rule).join()]),
      [
        ['ok', 'crates-io', ''],
        ['denied', 'crates-io', 'quarantine'],
        ['denied', 'crates-io', 'quarantine'],
        ['denied', 'crates-io', 'quarantine'],
        ['not-served', undefined, ''],
        ['not-served', undefined, ''],
      ],
    );
    assert.equal(answer.denied, 3);
  });

  it('fails the client gate on such a lockfile, and names the sources it did not check', async () => {
    const { lines, exitCode } = await policyCheck(lockfile, { registry: PUBLIC_URL, token, fetch: viaApp });
    assert.equal(exitCode, 1);
    assert.deepEqual(lines, [
      'demo 1.0.0 (crates-io): ok',
      'demo 1.1.0 (crates-io): DENIED (quarantine): demo@1.1.0 is in quarantine until 2026-11-22T12:00:00Z ' +
        '(published 2026-11-19T12:00:00Z; upstream `crates-io` holds back versions younger than 3d)',
      '1 package(s) from other sources were not checked: sparse+https://other.example/index/ ' +
        '(if this registry replaces one of them, say so with --replace <source>=<index>)',
      '1 of 2 package(s) from this registry are denied by its policy',
    ]);
  });

  it('checks a source the registry cannot map when the client says which of its indexes replaces it', async () => {
    const replacements = new Map([['sparse+https://other.example/index/', `sparse+${PUBLIC_URL}/mirrors/crates-io/index/`]]);
    writeFileSync(
      lockfile,
      `version = 4\n\n[[package]]\nname = "demo"\nversion = "1.1.0"\nsource = "sparse+https://other.example/index/"\nchecksum = "00"\n`,
    );
    const without = await policyCheck(lockfile, { registry: PUBLIC_URL, token, fetch: viaApp });
    assert.equal(without.exitCode, 0, 'nothing from this registry: nothing denied');
    assert.equal(without.lines.at(-1), '0 package(s) from this registry, none denied');
    const replaced = await policyCheck(lockfile, { registry: PUBLIC_URL, token, fetch: viaApp, replacements });
    assert.equal(replaced.exitCode, 1);
    assert.match(replaced.lines[0]!, /^demo 1\.1\.0 \(crates-io\): DENIED \(quarantine\)/);
  });

  /** fetch() into the in-process app. */
  const viaApp: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const res = await r.app.inject({
      method: 'POST',
      url: url.pathname,
      headers: init?.headers as Record<string, string>,
      payload: init?.body as string,
    });
    return new Response(res.body, { status: res.statusCode });
  };
});
