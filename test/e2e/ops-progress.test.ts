// export, import and migrate show their progress on stderr; without a terminal, as lines with the
// count (the form CI logs and services get), while stdout keeps the one-line result.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { httpRequest, publish } from '../support/http-client.js';
import { runCli, startRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';

// Undoes migrations 8 (download totals and the search index), 14 (stored index files), 18 (their
// gzip forms), 19 (the downloads index that replaced 8's) and 22 (the versions search shows), as if
// the database came from before them.
const UNDO_MIGRATIONS = [
  'drop trigger crate_search_insert',
  'drop trigger crate_search_delete',
  'drop trigger crate_search_update',
  'drop table crate_search',
  'drop index crates_by_downloads',
  'drop index crates_search_rank',
  'alter table crates drop column downloads',
  'delete from schema_migrations where version = 8',
  'drop table index_files',
  'delete from schema_migrations where version = 14',
  'delete from schema_migrations where version = 18',
  'delete from schema_migrations where version = 19',
  'alter table crates drop column max_version',
  'delete from schema_migrations where version = 22',
];

describe('progress of long operations without a terminal', () => {
  it('export, import and migrate write progress lines with counts to stderr', async () => {
    const server = await startRegistry();
    // prog-two's index file is over 1 KiB, so it is stored with a gzip form too.
    const features = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`feature-number-${i}`, []]));
    for (const [name, version, overrides] of [
      ['prog-one', '1.0.0', {}],
      ['prog-two', '0.2.0', { features }],
    ] as const) {
      const res = await publish(server.url, server.adminToken!, await publishBodyFor(name, version, overrides));
      assert.equal(res.status, 200, res.body.toString());
    }
    const served = new Map<string, { etag: unknown; body: string }>();
    for (const path of ['pr/og/prog-one', 'pr/og/prog-two']) {
      const res = await httpRequest(`${server.url}/index/${path}`, { headers: { authorization: server.adminToken! } });
      assert.equal(res.status, 200, res.body.toString());
      served.set(path, { etag: res.headers.etag, body: res.body.toString() });
    }
    assert.equal(await server.stop(), 0);

    const archive = join(makeTempDir('cratekeeper-archive-'), 'out');
    const exported = await runCli(['export', '--data-dir', server.dataDir, archive]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^exported \d+ rows and 2 \.crate files/);
    const exportLines = exported.stderr.split('\n');
    assert.ok(exportLines.includes('copying .crate files: 1/2 (50%) prog-one 1.0.0'), exported.stderr);
    assert.ok(exportLines.includes('copying .crate files: 2/2 (100%) prog-two 0.2.0'), exported.stderr);
    assert.match(exported.stderr, /^exporting tables: (\d+)\/\1 \(100%\) \w+ \(\d+ rows\)$/m);

    const target = makeTempDir('cratekeeper-target-');
    const imported = await runCli(['import', '--data-dir', target, archive]);
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^imported (\d+) rows and 2 \.crate files/);
    const rows = /^imported (\d+) rows/.exec(imported.stdout)![1];
    const importLines = imported.stderr.split('\n');
    assert.match(imported.stderr, /^checking table files: (\d+)\/\1 \(100%\) tables\/\w+\.jsonl$/m);
    assert.ok(importLines.includes('storing .crate files: 2/2 (100%) prog-two 0.2.0'), imported.stderr);
    assert.ok(
      importLines.some((l) => l.startsWith(`loading rows: ${rows}/${rows} (100%) `)),
      imported.stderr,
    );
    assert.ok(importLines.includes('rebuilding download totals: 2/2 (100%)'), imported.stderr);
    assert.ok(importLines.includes('rebuilding index files: 2/2 (100%) prog-two'), imported.stderr);
    assert.ok(importLines.includes('storing shown versions: 2/2 (100%)'), imported.stderr);

    const db = openSqliteConnection(join(target, 'cratekeeper.sqlite3'));
    try {
      for (const statement of UNDO_MIGRATIONS) db.exec(statement);
    } finally {
      db.close();
    }
    const migrated = await runCli(['migrate', '--data-dir', target]);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /^database schema is current/);
    assert.deepEqual(migrated.stderr.split('\n').filter(Boolean), [
      'rebuilding download totals: 2/2 (100%)',
      'applying migrations: 1/5 (20%) migration 8',
      'applying migrations: 2/5 (40%) migration 14',
      'rebuilding index files: 2/2 (100%) prog-two',
      'applying migrations: 3/5 (60%) migration 18',
      'applying migrations: 4/5 (80%) migration 19',
      'storing shown versions: 2/2 (100%)',
      'applying migrations: 5/5 (100%) migration 22',
    ]);

    const rebuilt = openSqliteConnection(join(target, 'cratekeeper.sqlite3'));
    try {
      const rows = rebuilt.prepare('select name_lower, gzip is not null as compressed from index_files order by name_lower').all();
      assert.deepEqual(rows, [
        { name_lower: 'prog-one', compressed: 0 },
        { name_lower: 'prog-two', compressed: 1 },
      ]);
    } finally {
      rebuilt.close();
    }

    // The rebuilt files are what the original registry served, ETag included.
    const moved = await startRegistry({ dataDir: target });
    try {
      for (const path of ['pr/og/prog-one', 'pr/og/prog-two']) {
        const res = await httpRequest(`${moved.url}/index/${path}`, { headers: { authorization: server.adminToken! } });
        assert.equal(res.status, 200, res.body.toString());
        assert.equal(res.headers.etag, served.get(path)!.etag);
        assert.equal(res.body.toString(), served.get(path)!.body);
      }
      // Migration 18 stored the large file's gzip form, which cargo gets.
      const gzipped = await httpRequest(`${moved.url}/index/pr/og/prog-two`, {
        headers: { authorization: server.adminToken!, 'accept-encoding': 'gzip' },
      });
      assert.equal(gzipped.headers['content-encoding'], 'gzip');
      assert.equal(gzipped.headers.etag, served.get('pr/og/prog-two')!.etag);
      assert.equal(gunzipSync(gzipped.body).toString(), served.get('pr/og/prog-two')!.body);
      // Migration 22 stored the version each crate is shown at in search results.
      const found = await httpRequest(`${moved.url}/api/v1/crates?q=prog`, { headers: { authorization: server.adminToken! } });
      const crates = (JSON.parse(found.body.toString()) as { crates: { name: string; max_version: string }[] }).crates;
      assert.deepEqual(Object.fromEntries(crates.map((c) => [c.name, c.max_version])), { 'prog-one': '1.0.0', 'prog-two': '0.2.0' });
    } finally {
      assert.equal(await moved.stop(), 0);
    }
  });
});
