// Plans of statements that run on SQLite's event-loop connection on each page view, on a database
// whose largest tables would make a walk through them costly, from EXPLAIN QUERY PLAN of the
// statements the repositories ran:
// - the empty query's page (the home page, `/api/v1/crates` without `q`) for a reader whom access
//   rules allow a few crates walks the downloads index alone, which holds the normalized name the
//   rules test, never each crate's row as well (400-580 ms at 150,000 crates with only `tokio*`
//   readable, before migration 19);
// - a crate page's downloads read each version's total as kept (migration 20) and the chart's
//   days from an index that holds the counts, not every day of every version's history.

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
import { newVersion, readerPrincipal } from './repository-fixtures.js';

/** A migrated database whose repositories note each statement they run, and its plan of one. */
async function loggedStore() {
  const file = join(makeTempDir('cratekeeper-query-plans-'), 'registry.sqlite');
  await (await openSqliteDatabase(file, { migrations: 'apply' })).close();
  const connection = openSqliteConnection(file);
  const ran: CompiledQuery[] = [];
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: connection }), log: (e) => void ran.push(e.query) });
  const planOf = (query: CompiledQuery) =>
    connection
      .prepare(`explain query plan ${query.sql}`)
      .all(...query.parameters)
      .map((step) => (step as { detail: string }).detail)
      .join('\n');
  return { db, store: new SqlMetadataDatabase(db, SQLITE_RULES), ran, planOf };
}

describe('query plans on SQLite', () => {
  it("finds a limited reader's page of every crate in the downloads index, without reading each crate's row", async () => {
    const { db, store, ran, planOf } = await loggedStore();
    try {
      const alice = await store.users.createUser('alice', false);
      for (const name of ['tokio', 'tokio-util', 'serde', 'rand']) await store.crates.publishVersion(newVersion(name, '1.0.0', alice.id));
      const readable = new AccessPolicy([
        { crates: ['tokio*'], read: ['alice'] },
        { crates: ['*'], read: [] },
      ]).readableCrates(readerPrincipal('alice'));
      ran.length = 0;
      const { total, hits } = await store.search.searchCrates('', 10, 0, readable);
      assert.deepEqual({ total, names: hits.map((h) => h.name).sort() }, { total: 2, names: ['tokio', 'tokio-util'] });
      const page = ran.find((q) => /order by crates\.downloads desc/.test(q.sql));
      assert.ok(page, ran.map((q) => q.sql).join('\n'));
      const plan = planOf(page);
      assert.match(plan, /SCAN crates USING COVERING INDEX crates_by_downloads/, plan);
    } finally {
      await db.destroy();
    }
  });

  it("reads a crate page's downloads from the kept totals and a range of the days index", async () => {
    const { db, store, ran, planOf } = await loggedStore();
    try {
      const days = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2026, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
      await store.downloadCounts.add(
        days.flatMap((day) => ['1.0.0', '1.1.0'].map((version) => ({ crate: 'big', version, day, count: 1 }))),
      );
      ran.length = 0;
      assert.deepEqual(await store.downloadCounts.perVersion('big'), [
        { version: '1.1.0', count: 30 },
        { version: '1.0.0', count: 30 },
      ]);
      assert.deepEqual(await store.downloadCounts.daily('big', days[28]!), [
        { day: days[28], count: 2 },
        { day: days[29], count: 2 },
      ]);
      const [perVersion, daily] = ran.map(planOf);
      assert.match(perVersion!, /version_download_totals/, perVersion);
      assert.doesNotMatch(perVersion!, /version_downloads\b/, perVersion);
      assert.match(daily!, /SEARCH version_downloads USING COVERING INDEX version_downloads_by_day \(crate=\? AND day>\?\)/, daily);
    } finally {
      await db.destroy();
    }
  });
});
