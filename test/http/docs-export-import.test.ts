// `cratekeeper export` and `import` carry rustdoc: the doc_builds rows and each version's docs
// archive, which import checks against the SHA-256 its key names and unpacks again, so the imported
// registry serves the same pages.

import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { exportRegistry } from '../../src/ops/export-registry.js';
import { importRegistry } from '../../src/ops/import-registry.js';
import { openRegistry } from '../../src/registry.js';
import { makeTar } from '../support/crate-fixture.js';
import { PUBLIC_URL, startTestRegistry } from '../support/in-process.js';

describe('export and import carry the docs', () => {
  it('serves the same docs after a round trip, and refuses a damaged docs archive', async () => {
    const source = await startTestRegistry();
    await source.publishAsAdmin('widget', '1.0.0');
    const archive = gzipSync(await makeTar([{ name: 'widget/index.html', body: '<p>exported docs</p>' }]));
    const upload = await source.request({
      method: 'PUT',
      url: '/api/v1/crates/widget/1.0.0/docs',
      token: source.adminToken,
      payload: archive,
    });
    assert.equal(upload.statusCode, 200, upload.body);
    const dir = join(makeTempDir('cratekeeper-export-'), 'archive');
    const manifest = await exportRegistry(source.registry.config, dir);
    // Tokens travel with the export: the source's admin token works on the imported registry.
    const { adminToken } = source;
    await source.close();
    assert.deepEqual(manifest.docs, { count: 1, bytes: archive.length });
    assert.equal(readdirSync(join(dir, 'docs')).length, 1);

    // A damaged copy is refused before any row is loaded.
    const damagedDir = makeTempDir('cratekeeper-import-damaged-');
    const damaged = loadConfig({ flags: { 'storage.data_dir': damagedDir, 'server.public_url': PUBLIC_URL } });
    const docsFile = join(dir, 'docs', readdirSync(join(dir, 'docs'))[0]!);
    const good = readFileSync(docsFile);
    writeFileSync(docsFile, Buffer.concat([good, Buffer.from('x')]));
    await assert.rejects(importRegistry(damaged, dir), /docs\/[0-9a-f]{64}\.tar\.gz is damaged/);
    writeFileSync(docsFile, good);

    const config = loadConfig({ flags: { 'storage.data_dir': makeTempDir('cratekeeper-import-'), 'server.public_url': PUBLIC_URL } });
    await importRegistry(config, dir);
    const registry = await openRegistry(config);
    const app = buildApp(registry, { publicUrl: () => PUBLIC_URL, logger: false });
    try {
      await app.ready();
      const entry = await app.inject({
        method: 'GET',
        url: '/docs/widget/1.0.0/widget/index.html',
        headers: { authorization: adminToken },
      });
      assert.equal(entry.statusCode, 303, entry.body);
      const page = await app.inject({ method: 'GET', url: String(entry.headers.location) });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /exported docs/);
    } finally {
      await app.close();
      await registry.close();
    }
  });
});
