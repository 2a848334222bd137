// Schema migrations: a new registry starts with one command; an existing database whose schema is
// behind (or ahead) makes `serve` refuse, naming the command that fixes it; `cratekeeper migrate`
// and `serve --migrate` fix it, on SQLite and PostgreSQL, also with several replicas at once.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { LATEST_SCHEMA_VERSION } from '../../src/adapters/metadata/migrations.js';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { httpRequest } from '../support/http-client.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { startSharedBackends, type SharedBackends } from '../support/shared-backends.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

// Undoes migration 4 (the shared rate-limit counters), as if the database came from the release before.
const UNDO_LATEST = ['drop table rate_limit_counts', 'delete from schema_migrations where version = 4'];

function sqlite(dataDir: string, statements: string[]): void {
  const db = openSqliteConnection(join(dataDir, 'cratekeeper.sqlite3'));
  try {
    for (const statement of statements) db.exec(statement);
  } finally {
    db.close();
  }
}

async function postgres(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

// A SIGTERM sent the moment serve prints its URL sometimes kills it outright (seen at c26f1f5 too):
// one request first, so that the stop under test is the graceful one.
async function stop(server: RunningRegistry): Promise<number | null> {
  await httpRequest(`${server.url}/healthz`);
  return server.stop();
}

async function refusedToServe(options: Parameters<typeof startRegistry>[0]): Promise<string> {
  try {
    const server = await startRegistry(options);
    await stop(server);
  } catch (error) {
    return (error as Error).message;
  }
  return assert.fail('serve started on a schema it should have refused');
}

describe('schema migrations', () => {
  it('SQLite: a new data folder starts at once; a schema behind is refused until `cratekeeper migrate`', async () => {
    assert.equal(LATEST_SCHEMA_VERSION >= 4, true);
    const dataDir = makeTempDir('cratekeeper-migrate-');
    const first = await startRegistry({ dataDir });
    assert.ok(first.adminToken);
    assert.equal(await stop(first), 0);

    sqlite(dataDir, UNDO_LATEST);
    const refusal = await refusedToServe({ dataDir });
    assert.match(refusal, /cratekeeper: the database schema is behind this cratekeeper \(missing migrations 4\)/);
    assert.match(refusal, /run `cratekeeper migrate`/);
    // The CLI's other commands refuse too, rather than write to a schema they do not expect.
    const addUser = await runCli(['user', 'add', 'carol', '--data-dir', dataDir]);
    assert.equal(addUser.code, 2);
    assert.match(addUser.stderr, /cratekeeper migrate/);

    const migrated = await runCli(['migrate', '--data-dir', dataDir]);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /database schema is current: migrations 1, 2, .*4/);
    const again = await runCli(['migrate', '--data-dir', dataDir]);
    assert.equal(again.code, 0, again.stderr);

    const second = await startRegistry({ dataDir });
    assert.equal(second.adminToken, undefined);
    assert.equal(await stop(second), 0);
  });

  it('SQLite: `serve --migrate` migrates first; a schema ahead of this build is refused', async () => {
    const dataDir = makeTempDir('cratekeeper-migrate-');
    assert.equal(await stop(await startRegistry({ dataDir })), 0);
    sqlite(dataDir, UNDO_LATEST);
    const server = await startRegistry({ dataDir, args: ['--migrate'] });
    assert.equal(await stop(server), 0);

    sqlite(dataDir, [`insert into schema_migrations (version, applied_at) values (999, 'later')`]);
    assert.match(await refusedToServe({ dataDir }), /does not know \(999; it knows up to \d+\)[\s\S]*upgrade this one/);
    const migrate = await runCli(['migrate', '--data-dir', dataDir]);
    assert.equal(migrate.code, 2);
    assert.match(migrate.stderr, /upgraded by a newer cratekeeper/);
  });

  describe('PostgreSQL', () => {
    let backends: SharedBackends;
    before(async () => {
      backends = await startSharedBackends();
    });
    after(async () => {
      await backends?.stop();
    });

    it('refuses a schema behind; several `migrate` and `serve --migrate` at once all succeed', async () => {
      const env = await backends.newRegistryEnv();
      const url = env.CRATEKEEPER_DATABASE__URL!;
      // Replicas that start together on a new database share one migration.
      const fresh = await Promise.all([startRegistry({ env }), startRegistry({ env })]);
      assert.equal(fresh.filter((s) => s.adminToken !== undefined).length, 1, 'exactly one replica creates the admin');
      for (const server of fresh) assert.equal(await stop(server), 0);

      await postgres(url, UNDO_LATEST);
      assert.match(await refusedToServe({ env }), /missing migrations 4[\s\S]*`cratekeeper migrate`/);

      const runs = await Promise.all([runCli(['migrate'], { env }), runCli(['migrate'], { env }), runCli(['migrate'], { env })]);
      for (const run of runs) assert.equal(run.code, 0, run.stderr);
      await postgres(url, UNDO_LATEST);
      const replicas = await Promise.all([startRegistry({ env, args: ['--migrate'] }), startRegistry({ env, args: ['--migrate'] })]);
      for (const server of replicas) assert.equal(await stop(server), 0);
      const status = await runCli(['migrate'], { env });
      assert.match(status.stdout, /migrations 1, 2, .*4/);
    });
  });
});
