// The repository contracts and the MetadataDatabase contract against a real PostgreSQL 15, one
// server for this file and an empty database per test; plus what only PostgreSQL needs: replicas
// migrating at once, and a control run showing that the change-log race test does catch a
// database without the commit-order lock.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrate } from '../../src/adapters/metadata/migrations.js';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import type { Database } from '../../src/adapters/metadata/sql-schema.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';
import { advisoriesContract } from './advisories.contract.js';
import { changeLogContract } from './change-log.contract.js';
import { cratesContract } from './crates.contract.js';
import { deviceFlowContract } from './device-flow.contract.js';
import { runFeedRace } from './feed-race.js';
import { identityContract } from './identity.contract.js';
import { metadataDatabaseContract } from './metadata-database.contract.js';
import { docBuildsContract } from './doc-builds.contract.js';
import { policyStoreContract } from './policy-store.contract.js';
import { tokensContract } from './tokens.contract.js';
import { webhooksContract } from './webhooks.contract.js';

const postgres = postgresServerForTests();

// A commit that lingers for a few random milliseconds after its change row got its seq, as a
// slow disk or network would make it: the window in which a later seq can commit first.
const SLOW_COMMITS = `
  create function linger() returns trigger language plpgsql as $$
  begin perform pg_sleep(random() * 0.004); return null; end $$;
  create trigger linger after insert on changes for each row execute function linger();`;

async function slowDatabase(): Promise<string> {
  const url = await postgres().createDatabase();
  const database = await openPostgresDatabase(url); // creates the tables the trigger goes on
  await database.close();
  await postgres().execute(url, SLOW_COMMITS);
  return url;
}

// CREATE DATABASE takes ~300 ms here, emptying one ~10 ms: each kind of database is created
// once, then emptied for the next test (the contracts close every database after each test).
/** Empties every table but the migrations' record: a list kept by hand missed each new table. */
const TRUNCATE_ALL = `do $$ begin execute (
  select 'truncate ' || string_agg(quote_ident(tablename), ', ') || ' restart identity cascade'
  from pg_tables where schemaname = current_schema() and tablename <> 'schema_migrations'); end $$`;
const databases = new Map<'plain' | 'slow', string>();
async function emptyDatabase(kind: 'plain' | 'slow'): Promise<string> {
  const existing = databases.get(kind);
  if (existing) {
    await postgres().execute(existing, TRUNCATE_ALL);
    return existing;
  }
  const url = kind === 'slow' ? await slowDatabase() : await postgres().createDatabase();
  databases.set(kind, url);
  return url;
}

const open = async () => openPostgresDatabase(await emptyDatabase('plain'));
identityContract('postgres', open);
tokensContract('postgres', open);
docBuildsContract('postgres', open);
deviceFlowContract('postgres', open);
advisoriesContract('postgres', open);
cratesContract('postgres', open);
changeLogContract('postgres', open, {
  async openTwin() {
    const url = await emptyDatabase('slow');
    return [await openPostgresDatabase(url), await openPostgresDatabase(url)];
  },
});
metadataDatabaseContract('postgres', open);
webhooksContract('postgres', open, async () => {
  const url = await emptyDatabase('plain');
  return [await openPostgresDatabase(url), await openPostgresDatabase(url)];
});
policyStoreContract('postgres', open);

describe('PostgreSQL metadata database', () => {
  it('lets replicas that start together share one migration', async () => {
    const url = await postgres().createDatabase();
    const databases = await Promise.all(Array.from({ length: 4 }, () => openPostgresDatabase(url)));
    try {
      const alice = await databases[0]!.users.createUser('alice', false);
      assert.deepEqual(await databases[3]!.users.findUserByLogin('alice'), alice);
    } finally {
      for (const database of databases) await database.close();
    }
  });

  it('plans its sessions without parallel workers, and leaves the server setting to other clients', async () => {
    const url = await postgres().createDatabase();
    const database = await openPostgresDatabase(url);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      const show = sql<{ max_parallel_workers_per_gather: string }>`show max_parallel_workers_per_gather`;
      // Several at once: each takes a connection of its own, each set up when it was opened.
      const sessions = await Promise.all(
        Array.from({ length: 4 }, () => database.db.transaction().execute(async (tx) => (await show.execute(tx)).rows[0]!)),
      );
      assert.deepEqual(
        sessions.map((row) => row.max_parallel_workers_per_gather),
        ['0', '0', '0', '0'],
      );
      assert.equal((await other.query('show max_parallel_workers_per_gather')).rows[0].max_parallel_workers_per_gather, '2');
    } finally {
      await other.end();
      await database.close();
    }
  });

  it('control: without the commit-order lock, a poller does miss changes', async () => {
    const url = await slowDatabase();
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 10 }) }) });
    await migrate(db, 'postgres');
    const unlocked = new SqlMetadataDatabase(db, { name: 'postgres', isUniqueViolation: (e) => (e as { code?: string }).code === '23505' });
    const reader = await openPostgresDatabase(url);
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
