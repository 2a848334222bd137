// What serving leaves to background writes arrives, also when the server stops before any timer
// wrote it: a SIGTERM flushes the pending audit events (index reads counted per token, crate and
// hour; one event per download), download counts and the token's last use, through the SQLite
// writer thread (adapters/metadata/sqlite-threads.ts), before the process exits.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { httpRequest, publish } from '../support/http-client.js';
import { startRegistry } from '../support/registry-server.js';

describe('background writes on shutdown', () => {
  it('writes the pending audit events, download counts and last use when stopped with SIGTERM', async () => {
    // A minute between audit flushes (the longest allowed): the shutdown writes them.
    const server = await startRegistry({ env: { CRATEKEEPER_AUDIT__FLUSH_INTERVAL_MS: '60000' } });
    const token = server.adminToken!;
    const published = await publish(server.url, token, await publishBodyFor('flushed', '1.0.0'));
    assert.equal(published.status, 200, published.body.toString());
    for (let i = 0; i < 3; i++) {
      const index = await httpRequest(`${server.url}/index/fl/us/flushed`, { headers: { authorization: token } });
      assert.equal(index.status, 200);
    }
    for (let i = 0; i < 2; i++) {
      const download = await httpRequest(`${server.url}/api/v1/crates/flushed/1.0.0/download`, { headers: { authorization: token } });
      assert.equal(download.status, 200);
    }
    assert.equal(await server.stop(), 0, server.output());

    const db = await openSqliteDatabase(join(server.dataDir, 'cratekeeper.sqlite3'));
    try {
      const reads = await db.auditLog.query({ action: 'index-read', crate: 'flushed', limit: 10, offset: 0 });
      assert.equal(
        reads.events.reduce((n, e) => n + e.count, 0),
        3,
      );
      const downloads = await db.auditLog.query({ action: 'download', crate: 'flushed', limit: 10, offset: 0 });
      assert.equal(downloads.total, 2);
      assert.deepEqual(await db.downloadCounts.perVersion('flushed'), [{ version: '1.0.0', count: 2 }]);
      const admin = await db.users.findUserByLogin('admin');
      const tokens = await db.tokens.listTokens(admin!.id);
      assert.ok(
        tokens.some((t) => t.lastUsedAt !== null),
        'the token used for the reads has a last use',
      );
    } finally {
      await db.close();
    }
  });
});
