// `policy check Cargo.lock` as the client toolkit runs it (packages/client/src/policy-check.ts),
// against the real app: the lockfile's registry packages go to POST /api/v1/policy/check, the
// denied ones are printed with the reason, and the exit code says whether any is denied.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { policyCheck } from '@cratekeeper/client/network';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

describe('policy check (client)', () => {
  let r: TestRegistry;
  let token: string;
  const lockfile = join(makeTempDir('cratekeeper-policy-check-'), 'Cargo.lock');
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

  before(async () => {
    r = await startTestRegistry();
    token = await r.userToken('ci');
    await r.publishAsAdmin('app-core', '1.0.0');
    await r.publishAsAdmin('app-core', '1.1.0');
    await r.registry.supplyChain.admin.hold(
      { audit: { principal: null, ip: null, userAgent: null }, login: 'admin' },
      'app-core@1.1.0',
      'broken build',
    );
    const main = `sparse+${PUBLIC_URL}/index/`;
    writeFileSync(
      lockfile,
      `version = 4\n\n[[package]]\nname = "app"\nversion = "0.1.0"\n\n` +
        `[[package]]\nname = "app-core"\nversion = "1.1.0"\nsource = "${main}"\nchecksum = "00"\n\n` +
        `[[package]]\nname = "app-core"\nversion = "1.0.0"\nsource = "${main}"\nchecksum = "00"\n\n` +
        `[[package]]\nname = "libc"\nversion = "0.2.0"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n`,
    );
  });
  after(() => r.close());

  it('prints each package from the registry, the denied one with its reason, and exits 1', async () => {
    const { lines, exitCode } = await policyCheck(lockfile, { registry: PUBLIC_URL, token, fetch: viaApp });
    assert.equal(exitCode, 1);
    assert.deepEqual(lines, [
      'app-core 1.1.0 (local): DENIED (hold): app-core@1.1.0 is held back: an administrator holds app-core@1.1.0 (broken build)',
      'app-core 1.0.0 (local): ok',
      '1 package(s) from other sources were not checked: registry+https://github.com/rust-lang/crates.io-index ' +
        '(if this registry replaces one of them, say so with --replace <source>=<index>)',
      '1 of 2 package(s) from this registry are denied by its policy',
    ]);
  });

  it('exits 0 once nothing is denied', async () => {
    await r.registry.supplyChain.admin.remove(
      { audit: { principal: null, ip: null, userAgent: null }, login: 'admin' },
      'hold',
      'app-core@1.1.0',
    );
    const { lines, exitCode } = await policyCheck(lockfile, { registry: PUBLIC_URL, token, fetch: viaApp });
    assert.equal(exitCode, 0);
    assert.equal(lines.at(-1), '2 package(s) from this registry, none denied');
  });

  it('says what the registry answered when the token is refused', async () => {
    await assert.rejects(policyCheck(lockfile, { registry: PUBLIC_URL, token: 'nonsense', fetch: viaApp }), /answered 401/);
  });
});
