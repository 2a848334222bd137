// export, import and migrate show their progress on stderr; without a terminal, as lines with the
// count (the form CI logs and services get), while stdout keeps the one-line result.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { httpRequest, publish } from '../support/http-client.js';
import { runCli, startRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';

// Undoes migration 8 (download totals and the search index), as if the database came from before it.
const UNDO_MIGRATION_8 = [
  'drop trigger crate_search_insert',
  'drop trigger crate_search_delete',
  'drop trigger crate_search_update',
  'drop table crate_search',
  'drop index crates_downloads',
  'drop index crates_search_rank',
  'alter table crates drop column downloads',
  'delete from schema_migrations where version = 8',
];

describe('progress of long operations without a terminal', () => {
  it('export, import and migrate write progress lines with counts to stderr', async () => {
    const server = await startRegistry();
    for (const [name, version] of [
      ['prog-one', '1.0.0'],
      ['prog-two', '0.2.0'],
    ] as const) {
      const res = await publish(server.url, server.adminToken!, await publishBodyFor(name, version));
      assert.equal(res.status, 200, res.body.toString());
    }
    await httpRequest(`${server.url}/healthz`);
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

    const db = openSqliteConnection(join(target, 'cratekeeper.sqlite3'));
    try {
      for (const statement of UNDO_MIGRATION_8) db.exec(statement);
    } finally {
      db.close();
    }
    const migrated = await runCli(['migrate', '--data-dir', target]);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /^database schema is current/);
    assert.deepEqual(migrated.stderr.split('\n').filter(Boolean), [
      'rebuilding download totals: 2/2 (100%)',
      'applying migrations: 1/1 (100%) migration 8',
    ]);
  });
});
