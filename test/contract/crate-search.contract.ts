// The CrateSearch contract at the scale-independent level (migration 8): crates.io's order (exact
// name, relevance, downloads, name), one total for every match however a page is cut, short and
// empty queries, access rules applied inside the search (never listed, never counted), the index
// kept in step with publishes, and the migration indexing a registry that already has crates and
// downloads. Run against SQLite and PostgreSQL by the crate-search-*.test.ts files.

import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { AccessPolicy, type AccessRuleConfig } from '../../src/auth/access-policy.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import type { ReadableCrates } from '../../src/ports/crate-search.js';
import { newVersion, readerPrincipal } from './repository-fixtures.js';

/** A database with the schema of every migration before 8, and how to upgrade it to the latest. */
export interface DatabaseBeforeSearchIndex {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rows written as an older schema had them
  db: Kysely<any>;
  upgrade(): Promise<MetadataDatabase>;
}

export interface CrateSearchFixtures {
  open(): Promise<MetadataDatabase>;
  openBeforeSearchIndex(): Promise<DatabaseBeforeSearchIndex>;
}

export function crateSearchContract(name: string, fixtures: CrateSearchFixtures): void {
  describe(`CrateSearch contract: ${name}`, () => {
    const opened: MetadataDatabase[] = [];
    const fresh = async () => {
      const db = await fixtures.open();
      opened.push(db);
      return db;
    };
    afterEach(async () => {
      for (const db of opened.splice(0)) await db.close();
    });

    // name, description, downloads
    const HTTP_CRATES: [string, string | null, number][] = [
      ['ureq', 'Simple HTTP client', 10],
      ['hyper-http', 'A fast server', 1000],
      ['http-body', 'Bodies', 5],
      ['reqwest', 'higher level http client', 1_000_000],
      ['httparse', null, 50],
      ['Http', 'Types for HTTP', 0],
      ['tokio', 'An event-driven runtime', 2_000_000],
      ['serde', 'Serialization', 3_000_000],
    ];
    const seed = async (crates = HTTP_CRATES) => {
      const db = await fresh();
      const alice = await db.users.createUser('alice', false);
      for (const [n, description] of crates) await db.crates.publishVersion(newVersion(n, '1.0.0', alice.id, { description }));
      // In two batches, as a server flushes them: the totals add up across batches.
      const counts = crates.filter(([, , d]) => d > 0).map(([n, , d]) => ({ crate: n.toLowerCase(), version: '1.0.0', count: d }));
      await db.downloadCounts.add(counts.map((c) => ({ ...c, day: '2030-01-01', count: c.count - 1 })));
      await db.downloadCounts.add(counts.map((c) => ({ ...c, day: '2030-01-02', count: 1 })));
      return db;
    };
    const names = async (db: MetadataDatabase, q: string, limit = 50, offset = 0, readable?: ReadableCrates) => {
      const { total, hits } = await db.search.searchCrates(q, limit, offset, readable);
      return { total, names: hits.map((h) => h.name) };
    };

    it('orders as crates.io: the exact name, then prefix, name and description matches, each by downloads, then by name', async () => {
      const db = await seed();
      assert.deepEqual(await names(db, 'HTTP'), {
        total: 6,
        names: ['Http', 'httparse', 'http-body', 'hyper-http', 'reqwest', 'ureq'],
      });
    });

    it('counts every match whatever page is asked, past the last one too', async () => {
      const db = await seed();
      assert.deepEqual(await names(db, 'http', 2, 2), { total: 6, names: ['http-body', 'hyper-http'] });
      assert.deepEqual(await names(db, 'http', 4, 4), { total: 6, names: ['reqwest', 'ureq'] });
      assert.deepEqual(await names(db, 'http', 2, 10), { total: 6, names: [] });
      assert.deepEqual(await names(db, 'nothing at all', 2, 0), { total: 0, names: [] });
    });

    it('lists every crate for the empty query, most downloaded first', async () => {
      const db = await seed();
      assert.deepEqual(await names(db, '', 4), { total: 8, names: ['serde', 'tokio', 'reqwest', 'hyper-http'] });
      assert.deepEqual(await names(db, '', 4, 4), { total: 8, names: ['httparse', 'ureq', 'http-body', 'Http'] });
    });

    it('matches a query shorter than three characters against names only', async () => {
      const db = await seed();
      // `tt` is in "HTTP" in descriptions too (reqwest's, ureq's): those are not matched.
      assert.deepEqual(await names(db, 'tt'), { total: 4, names: ['hyper-http', 'httparse', 'http-body', 'Http'] });
      assert.deepEqual(await names(db, 'R-'), { total: 1, names: ['hyper-http'] });
      assert.deepEqual(await names(db, 'x'), { total: 0, names: [] });
      // Two characters at a name's start and at its end; not in "Serialization" (a description).
      assert.deepEqual(await names(db, 'se'), { total: 2, names: ['serde', 'httparse'] });
      assert.deepEqual(await names(db, 'dY'), { total: 1, names: ['http-body'] });
      assert.deepEqual(await names(db, '%e'), { total: 0, names: [] });
    });

    it('takes quotes and search operators in a query as text', async () => {
      const db = await seed([
        ['quoted', 'says "hi" OR NEAR(x) name_normalized: * ^', 0],
        ['other', 'hi there', 0],
      ]);
      for (const q of ['"hi"', '"hi" OR', 'NEAR(x)', 'name_normalized:', ': * ^']) {
        assert.deepEqual(await names(db, q), { total: 1, names: ['quoted'] }, q);
      }
      assert.deepEqual(await names(db, 'hi OR there'), { total: 0, names: [] });
    });

    it('finds a crate by its latest description and name right after a publish', async () => {
      const db = await seed();
      const alice = (await db.users.findUserByLogin('alice'))!;
      await db.crates.publishVersion(newVersion('ureq', '2.0.0', alice.id, { description: 'Minimal blocking agent' }));
      assert.deepEqual(await names(db, 'blocking'), { total: 1, names: ['ureq'] });
      assert.deepEqual((await names(db, 'simple http')).names, []);
      await db.crates.publishVersion(newVersion('blocking-new', '0.1.0', alice.id, { description: null }));
      assert.deepEqual((await names(db, 'blocking')).names, ['blocking-new', 'ureq']);
    });

    it('neither lists nor counts a crate the reader may not read, whatever the page', async () => {
      const db = await seed();
      const rules: AccessRuleConfig[] = [
        { crates: ['http*'], read: ['alice'], admins: ['group:web'] },
        { crates: ['reqwest', 'tokio'], read: [] },
        { crates: ['*'], read: ['alice', 'bob', 'carol'] },
      ];
      const policy = new AccessPolicy(rules);
      const everything = (await names(db, '', 100)).names;
      for (const reader of [
        readerPrincipal('alice'),
        readerPrincipal('bob'),
        readerPrincipal('carol', ['web']),
        readerPrincipal('dave'),
        null,
      ]) {
        const readable = policy.readableCrates(reader);
        assert.ok(readable, 'every reader here is limited');
        for (const q of ['', 'http', 'tt']) {
          const all = (await names(db, q, 100)).names;
          const expected = all.filter((n) => policy.mayRead(reader, n));
          assert.deepEqual(await names(db, q, 100, 0, readable), { total: expected.length, names: expected }, `${reader?.login} ${q}`);
          assert.deepEqual(await names(db, q, 2, 1, readable), { total: expected.length, names: expected.slice(1, 3) });
        }
      }
      // dave reads nothing: not even a total.
      assert.deepEqual(await names(db, '', 10, 0, policy.readableCrates(readerPrincipal('dave'))), { total: 0, names: [] });
      assert.equal(everything.length, 8);
    });

    it('indexes, when migrated, the crates and downloads a registry already has', async () => {
      const before = await fixtures.openBeforeSearchIndex();
      const at = '2030-01-01T00:00:00Z';
      await before.db.insertInto('users').values({ id: 1, login: 'alice', is_admin: 0, created_at: at }).execute();
      for (const [i, [n, description, downloads]] of HTTP_CRATES.entries()) {
        const lower = n.toLowerCase();
        await before.db
          .insertInto('crates')
          .values({
            id: i + 1,
            name: n,
            name_lower: lower,
            name_normalized: lower.replaceAll('-', '_'),
            description,
            created_at: at,
            updated_at: at,
          })
          .execute();
        for (const [version, count] of [
          ['1.0.0', downloads - Math.floor(downloads / 2)],
          ['1.1.0', Math.floor(downloads / 2)],
        ] as const) {
          if (count > 0)
            await before.db.insertInto('version_downloads').values({ crate: lower, version, day: '2030-01-01', count }).execute();
        }
        // The versions each crate is shown at, which migration 22 stores: the highest stable version
        // that is not yanked, and `tokio`'s 1.1.0 is.
        for (const vers of ['1.0.0', '1.1.0', '2.0.0-rc.1']) {
          await before.db
            .insertInto('versions')
            .values({
              crate_id: i + 1,
              vers,
              vers_key: vers,
              entry_json: JSON.stringify({ name: n, vers, deps: [], cksum: 'x', features: {}, yanked: false }),
              details_json: '{}',
              yanked: n === 'tokio' && vers === '1.1.0' ? 1 : 0,
              blob_key: `${lower}-${vers}`,
              size: 1,
              cksum: 'x',
              published_by: 1,
              created_at: at,
            })
            .execute();
        }
      }
      const db = await before.upgrade();
      opened.push(db);
      const shown = Object.fromEntries((await db.search.searchCrates('', 100, 0)).hits.map((h) => [h.name, h.maxVersion]));
      assert.deepEqual(shown, Object.fromEntries(HTTP_CRATES.map(([n]) => [n, n === 'tokio' ? '1.0.0' : '1.1.0'])));
      assert.deepEqual(await names(db, 'http'), { total: 6, names: ['Http', 'httparse', 'http-body', 'hyper-http', 'reqwest', 'ureq'] });
      assert.deepEqual((await names(db, '', 3)).names, ['serde', 'tokio', 'reqwest']);
      // And later downloads add to the totals the migration summed.
      await db.downloadCounts.add([{ crate: 'ureq', version: '1.0.0', day: '2030-01-02', count: 2_000_000 }]);
      assert.deepEqual((await names(db, 'client')).names, ['ureq', 'reqwest']);
      // The empty query's total is the count migration 17 took of the crates already there, and the
      // triggers keep it: crates loaded many to a statement (as an import loads them) add to it.
      assert.equal((await names(db, '')).total, HTTP_CRATES.length);
      const loaded = ['loaded-one', 'loaded-two'].map((n, i) => ({
        id: 100 + i,
        name: n,
        name_lower: n,
        name_normalized: n.replaceAll('-', '_'),
        description: null,
        created_at: at,
        updated_at: at,
      }));
      await db.tables.load(['crates'], async function* () {
        yield* loaded;
      });
      assert.equal((await names(db, '')).total, HTTP_CRATES.length + 2);
      assert.deepEqual((await names(db, '', 4)).names, ['serde', 'ureq', 'tokio', 'reqwest']);
    });
  });
}
