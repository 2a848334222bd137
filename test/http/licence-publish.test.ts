// The licence rule at publish time: a local publish that breaks the registry's rule is refused in
// cargo's error shape, naming the licence and the rule, before anything is stored; the refusal is
// audited (`policy-refused`) and counted. A warn decision publishes with cargo's warning. Under a
// rule, the publish metadata's licence must be the packaged Cargo.toml's.

import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { makeTar, metadataFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name))
      .sort();
  } catch {
    return [];
  }
}

/** A publish body whose Cargo.toml and metadata declare `licence` (or `licenceFile`); `packaged` overrides the Cargo.toml's. */
async function bodyWith(name: string, version: string, declared: { license?: string; licenseFile?: string; packaged?: string }) {
  const lines = [`[package]`, `name = "${name}"`, `version = "${version}"`, 'edition = "2021"'];
  const packaged = declared.packaged ?? declared.license;
  if (packaged !== undefined) lines.push(`license = "${packaged}"`);
  if (declared.licenseFile !== undefined) lines.push(`license-file = "${declared.licenseFile}"`);
  const prefix = `${name}-${version}`;
  const crate = gzipSync(
    await makeTar([
      { name: `${prefix}/Cargo.toml`, body: `${lines.join('\n')}\n` },
      { name: `${prefix}/src/lib.rs`, body: 'pub fn f() {}\n' },
    ]),
  );
  const metadata = metadataFor(name, version, { license: declared.license ?? null, license_file: declared.licenseFile ?? null });
  return encodePublishBody(metadata, crate);
}

describe('licence rule on local publishes', () => {
  let r: TestRegistry;
  const publish = (payload: Buffer) => r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload });
  const setLocal = async (key: string, value: unknown) => {
    await r.registry.metadata.policy.setSetting('local', key, JSON.stringify(value), 'admin', new Date(0).toISOString());
    await r.registry.supplyChain.state.reloadSettings();
  };

  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.close());

  it('without a rule, any licence is published', async () => {
    const res = await publish(await bodyWith('before-rule', '1.0.0', { license: 'GPL-3.0-only' }));
    assert.equal(res.statusCode, 200, res.body);
  });

  it('refuses a licence the rule does not allow, naming it and the rule, and stores nothing', async () => {
    await setLocal('licences_allow', ['MIT', 'Apache-2.0']);
    const blobsBefore = listFiles(join(r.dataDir, 'blobs'));
    const res = await publish(await bodyWith('copyleft', '1.0.0', { license: 'GPL-3.0-only' }));
    assert.equal(res.statusCode, 400, res.body);
    assert.deepEqual(JSON.parse(res.body), {
      errors: [
        {
          detail: 'copyleft@1.0.0 cannot be published: licence `GPL-3.0-only` is not allowed in this registry: allowed are MIT, Apache-2.0',
        },
      ],
    });
    assert.equal((await r.request({ method: 'GET', url: '/index/co/py/copyleft', token: r.adminToken })).statusCode, 404);
    assert.deepEqual(listFiles(join(r.dataDir, 'blobs')), blobsBefore, 'a blob was written');

    await r.registry.audit.flush();
    const audit = await r.request({ method: 'GET', url: '/api/v1/admin/audit?action=policy-refused', token: r.adminToken });
    const events = JSON.parse(audit.body).events as Array<Record<string, unknown>>;
    assert.equal(events.length, 1, audit.body);
    assert.equal(events[0]!.crate, 'copyleft');
    assert.equal(events[0]!.version, '1.0.0');
    assert.match(String(events[0]!.detail), /GPL-3\.0-only/);

    const metrics = await r.request({ method: 'GET', url: '/metrics' });
    assert.match(metrics.body, /^cratekeeper_publish_refusals_total\{rule="licence"\} 1$/m);
  });

  it('accepts an expression one of whose alternatives is allowed, and cargo’s legacy separator', async () => {
    assert.equal((await publish(await bodyWith('dual', '1.0.0', { license: 'GPL-3.0-only OR MIT' }))).statusCode, 200);
    assert.equal((await publish(await bodyWith('legacy', '1.0.0', { license: 'MIT/Apache-2.0' }))).statusCode, 200);
    const both = await publish(await bodyWith('both', '1.0.0', { license: 'MIT AND GPL-3.0-only' }));
    assert.equal(both.statusCode, 400);
    assert.match(JSON.parse(both.body).errors[0].detail, /licence `MIT AND GPL-3\.0-only` is not allowed in this registry/);
  });

  it('deny wins over allow', async () => {
    await setLocal('licences_deny', ['Apache-2.0']);
    const res = await publish(await bodyWith('denied', '1.0.0', { license: 'Apache-2.0' }));
    assert.equal(res.statusCode, 400);
    assert.match(JSON.parse(res.body).errors[0].detail, /`Apache-2\.0` is denied.*denied are Apache-2\.0/);
  });

  it('refuses a missing licence and a licence file alone by default, and warns when told to', async () => {
    const none = await publish(await bodyWith('unlicensed', '1.0.0', {}));
    assert.equal(none.statusCode, 400);
    assert.match(
      JSON.parse(none.body).errors[0].detail,
      /no licence is declared, and this registry requires one \(licence_missing = "deny"\)/,
    );
    const fileOnly = await publish(await bodyWith('file-only', '1.0.0', { licenseFile: 'LICENSE.txt' }));
    assert.equal(fileOnly.statusCode, 400);
    assert.match(JSON.parse(fileOnly.body).errors[0].detail, /only a licence file \(`LICENSE\.txt`\)/);

    await setLocal('licence_file', 'warn');
    const warned = await publish(await bodyWith('file-only', '1.0.0', { licenseFile: 'LICENSE.txt' }));
    assert.equal(warned.statusCode, 200, warned.body);
    assert.match(JSON.parse(warned.body).warnings.other[0], /^file-only@1\.0\.0: only a licence file .*licence_file = "warn"/);
  });

  it('refuses metadata whose licence is not the packaged Cargo.toml’s', async () => {
    const res = await publish(await bodyWith('liar', '1.0.0', { license: 'MIT', packaged: 'GPL-3.0-only' }));
    assert.equal(res.statusCode, 400);
    assert.match(
      JSON.parse(res.body).errors[0].detail,
      /the crate's Cargo\.toml declares license `GPL-3\.0-only`, but the publish metadata says `MIT`/,
    );
    assert.equal((await r.request({ method: 'GET', url: '/index/li/ar/liar', token: r.adminToken })).statusCode, 404);
  });
});
