// The empty query's page (the home page, `/api/v1/crates` without `q`) for a reader whom access
// rules allow a few crates, on SQLite, where search runs on the event loop: the page is found by
// walking the downloads index alone, which holds the normalized name the rules test, never by
// reading each crate's row as well (404 ms at 150,000 crates with only `tokio*` readable, before
// migration 19). Plans from EXPLAIN QUERY PLAN of the statements the search ran.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { AccessPolicy } from '../../src/auth/access-policy.js';
import { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { SQLITE_RULES } from '../../src/adapters/metadata/sqlite-rules.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { newVersion } from './repository-fixtures.js';

describe('search plans on SQLite', () => {
  it("finds a limited reader's page of every crate in the downloads index, without reading each crate's row", async () => {
    const file = join(makeTempDir('cratekeeper-search-plans-'), 'registry.sqlite');
    await (await openSqliteDatabase(file, { migrations: 'apply' })).close();
    const connection = openSqliteConnection(file);
    const ran: CompiledQuery[] = [];
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }), log: (e) => void ran.push(e.query) });
    const store = new SqlMetadataDatabase(db, SQLITE_RULES);
    try {
      const alice = await store.users.createUser('alice', false);
      for (const name of ['tokio', 'tokio-util', 'serde', 'rand']) await store.crates.publishVersion(newVersion(name, '1.0.0', alice.id));
      const readable = new AccessPolicy([
        { crates: ['tokio*'], read: ['alice'] },
        { crates: ['*'], read: [] },
      ]).readableCrates({
        tokenId: 1,
        userId: 1,
        login: 'alice',
        isAdmin: false,
        expiresAt: null,
        scopes: null,
        cratePatterns: null,
        groups: [],
        origin: null,
      });
      ran.length = 0;
      const { total, hits } = await store.search.searchCrates('', 10, 0, readable);
      assert.deepEqual({ total, names: hits.map((h) => h.name).sort() }, { total: 2, names: ['tokio', 'tokio-util'] });
      const page = ran.find((q) => /order by crates\.downloads desc/.test(q.sql));
      assert.ok(page, ran.map((q) => q.sql).join('\n'));
      const plan = connection
        .prepare(`explain query plan ${page.sql}`)
        .all(...page.parameters)
        .map((step) => (step as { detail: string }).detail)
        .join('\n');
      assert.match(plan, /SCAN crates USING COVERING INDEX crates_by_downloads/, plan);
    } finally {
      await db.destroy();
    }
  });
});
