// The MetadataStore contract against a real PostgreSQL 15, one server for this file and an empty
// database per test; plus what only PostgreSQL needs: replicas migrating at once, and a control
// run showing that the change-feed race test does catch a store without the commit-order lock.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrate } from '../../src/adapters/metadata/migrations.js';
import { openPostgresStore } from '../../src/adapters/metadata/postgres.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { SqlMetadataStore } from '../../src/adapters/metadata/sql-store.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { runFeedRace } from './feed-race.js';
import { metadataStoreContract } from './metadata-store.contract.js';

let server: PostgresServer | undefined;
before(async () => {
  server = await startPostgresServer();
});
after(async () => {
  await server?.stop();
});

function running(): PostgresServer {
  if (!server) throw new Error('PostgreSQL did not start (see the failure of the `before` hook)');
  return server;
}

// A commit that lingers for a few random milliseconds after its change row got its seq, as a
// slow disk or network would make it: the window in which a later seq can commit first.
const SLOW_COMMITS = `
  create function linger() returns trigger language plpgsql as $$
  begin perform pg_sleep(random() * 0.004); return null; end $$;
  create trigger linger after insert on changes for each row execute function linger();`;

async function slowDatabase(): Promise<string> {
  const url = await running().createDatabase();
  const store = await openPostgresStore(url); // creates the tables the trigger goes on
  await store.close();
  await running().execute(url, SLOW_COMMITS);
  return url;
}

// CREATE DATABASE takes ~300 ms here, emptying one ~10 ms: each kind of database is created
// once, then emptied for the next test (the contract closes every store after each test).
const TABLES = 'users, tokens, crates, versions, crate_owners, changes';
const databases = new Map<'plain' | 'slow', string>();
async function emptyDatabase(kind: 'plain' | 'slow'): Promise<string> {
  const existing = databases.get(kind);
  if (existing) {
    await running().execute(existing, `truncate ${TABLES} restart identity cascade`);
    return existing;
  }
  const url = kind === 'slow' ? await slowDatabase() : await running().createDatabase();
  databases.set(kind, url);
  return url;
}

metadataStoreContract('postgres', async () => openPostgresStore(await emptyDatabase('plain')), {
  async openTwin() {
    const url = await emptyDatabase('slow');
    return [await openPostgresStore(url), await openPostgresStore(url)];
  },
});

describe('PostgreSQL store', () => {
  it('lets replicas that start together share one migration', async () => {
    const url = await running().createDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url)));
    try {
      const alice = await stores[0]!.createUser('alice', false);
      assert.deepEqual(await stores[3]!.findUserByLogin('alice'), alice);
    } finally {
      for (const store of stores) await store.close();
    }
  });

  it('control: without the commit-order lock, a poller does miss changes', async () => {
    const url = await slowDatabase();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
    await migrate(db, 'postgres');
    const unlocked = new SqlMetadataStore(db, { isUniqueViolation: (e) => (e as { code?: string }).code === '23505' });
    const reader = await openPostgresStore(url);
    try {
      let missed = 0;
      // The race is probabilistic; a few rounds make a false alarm here vanishingly rare.
      for (let round = 0; round < 3 && missed === 0; round++) missed = (await runFeedRace(unlocked, reader, 120)).missed.length;
      assert.ok(missed > 0, 'the race test saw no missed change even without the lock: it proves nothing');
    } finally {
      await unlocked.close();
      await reader.close();
    }
  });
});
