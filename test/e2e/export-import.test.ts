// `cratekeeper export` / `import` move a whole registry between backends: SQLite + disk →
// PostgreSQL + S3 → SQLite + disk. After each move the real cargo builds against the imported
// registry with the tokens made before the export, and the rows come back identical. Import
// refuses a registry that is not empty and an archive whose .crate files do not match their cksum.
// Download counts travel too: those the servers counted, and years of history (more rows than one
// export page).

import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import type { ArchiveManifest } from '../../src/ops/archive-format.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { httpRequest } from '../support/http-client.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { startSharedBackends, type SharedBackends } from '../support/shared-backends.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function ok(result: { code: number | null; stderr: string; stdout: string }, what: string) {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as ArchiveManifest;
const rowsOf = (dir: string, table: string) =>
  readFileSync(join(dir, 'tables', `${table}.jsonl`), 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** Downloads per `crate version` over all days, from an archive's version_downloads rows. */
function downloadsOf(dir: string): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const row of rowsOf(dir, 'version_downloads')) {
    const key = `${String(row.crate)} ${String(row.version)}`;
    totals[key] = (totals[key] ?? 0) + Number(row.count);
  }
  return totals;
}

// Download history older than the servers in this test: one row a day for ~16 years.
const HISTORY_DAYS = 6_000;

async function stop(server: RunningRegistry): Promise<void> {
  await httpRequest(`${server.url}/healthz`);
  assert.equal(await server.stop(), 0);
}

/** The real cargo, with `token`, resolves and builds a project using the moved crates. */
async function buildsWith(server: RunningRegistry, token: string): Promise<void> {
  const cargo = new CargoSandbox();
  cargo.configure(`${server.url}/index/`);
  ok(await cargo.run(['login', '--registry', 'ck'], { input: `${token}\n` }), 'cargo login');
  const app = cargo.createApp(
    'moved',
    ['mv-alpha = { version = "0.1", registry = "ck" }', 'mv-beta = { version = "0.1", registry = "ck" }'],
    'fn main() { println!("{}", mv_beta::greeting()); }\n',
  );
  const run: CargoResult = await cargo.run(['run', '-q'], { cwd: app });
  assert.equal(run.code, 0, `cargo run failed:\n${run.stderr}`);
  assert.equal(run.stdout.trim(), 'beta uses alpha 0.1.1');
  // The yanked 0.1.0 stayed yanked: the fresh lockfile picked 0.1.1.
  assert.match(readFileSync(join(app, 'Cargo.lock'), 'utf8'), /name = "mv-alpha"\nversion = "0\.1\.1"/);
}

describe('export and import between backends', () => {
  let backends: SharedBackends;
  let adminToken: string;
  let bobToken: string;
  const archives = { fromSqlite: '', fromPostgres: '' };
  before(async () => {
    backends = await startSharedBackends();
  });
  after(async () => {
    await backends?.stop();
  });

  it('SQLite + disk → archive', async () => {
    const server = await startRegistry();
    adminToken = server.adminToken!;
    const dataDir = server.dataDir;
    const cli = (args: string[]) => runCli([...args, '--data-dir', dataDir]);
    ok(await cli(['user', 'add', 'bob']), 'user add');
    bobToken = ok(
      await cli(['token', 'create', '--user', 'bob', '--scopes', 'read,publish-update', '--crates', 'mv-*', '--expires-in-days', '30']),
      'token create',
    ).stdout.trim();
    ok(await cli(['group', 'add-member', 'core', 'bob']), 'group add-member');

    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    ok(await cargo.run(['login', '--registry', 'ck'], { input: `${adminToken}\n` }), 'cargo login');
    for (const version of ['0.1.0', '0.1.1']) {
      const alpha = cargo.createPackage({ name: 'mv-alpha', version, lib: `pub fn version() -> &'static str { "${version}" }\n` });
      ok(await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: alpha }), `publish mv-alpha ${version}`);
    }
    const beta = cargo.createPackage({
      name: 'mv-beta',
      version: '0.1.0',
      dependencies: ['mv-alpha = { version = "0.1", registry = "ck" }'],
      lib: 'pub fn greeting() -> String { format!("beta uses alpha {}", mv_alpha::version()) }\n',
    });
    ok(await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: beta }), 'publish mv-beta');
    ok(await cargo.run(['yank', '--registry', 'ck', 'mv-alpha@0.1.0']), 'yank');
    ok(await cargo.run(['owner', '--registry', 'ck', '--add', 'bob', 'mv-alpha']), 'owner --add');
    for (const path of ['mv-alpha/0.1.0', 'mv-alpha/0.1.0', 'mv-beta/0.1.0']) {
      const res = await httpRequest(`${server.url}/api/v1/crates/${path}/download`, { headers: { authorization: adminToken } });
      assert.equal(res.status, 200, `download ${path}`);
    }
    await stop(server); // writes the counted downloads
    const db = openSqliteConnection(join(dataDir, 'cratekeeper.sqlite3'));
    try {
      const insert = db.prepare(`insert into version_downloads (crate, version, day, count) values ('mv-alpha', '0.1.0', ?, 1)`);
      db.transaction(() => {
        for (let i = 0; i < HISTORY_DAYS; i++) insert.run(new Date(Date.UTC(2000, 0, 1) + i * 86_400_000).toISOString().slice(0, 10));
      })();
    } finally {
      db.close();
    }

    archives.fromSqlite = join(makeTempDir('cratekeeper-export-'), 'archive');
    const exported = ok(await cli(['export', archives.fromSqlite]), 'export');
    assert.match(exported.stdout, /exported \d+ rows and 3 \.crate files/);
    const manifest = manifestOf(archives.fromSqlite);
    assert.equal(readdirSync(join(archives.fromSqlite, 'blobs')).length, 3);
    assert.deepEqual(
      Object.fromEntries(
        manifest.tables
          .filter((t) => ['users', 'crates', 'versions', 'crate_owners', 'group_members'].includes(t.name))
          .map((t) => [t.name, t.rows]),
      ),
      { users: 2, crates: 2, versions: 3, crate_owners: 3, group_members: 1 },
    );
    assert.deepEqual(downloadsOf(archives.fromSqlite), { 'mv-alpha 0.1.0': HISTORY_DAYS + 2, 'mv-beta 0.1.0': 1 });
    assert.equal(manifest.tables.find((t) => t.name === 'version_downloads')?.rows, HISTORY_DAYS + 2);
  });

  it('archive → PostgreSQL + S3: cargo builds with the old tokens; then back out to an archive', async () => {
    const env = await backends.newRegistryEnv();
    const imported = ok(await runCli(['import', archives.fromSqlite], { env }), 'import');
    assert.match(imported.stdout, /imported \d+ rows and 3 \.crate files .*every checksum matched/);

    const server = await startRegistry({ env });
    assert.equal(server.adminToken, undefined, 'the imported registry already has its admin');
    await buildsWith(server, adminToken);
    // bob's token kept its scopes, crate patterns and expiry, and bob his group and ownership.
    const tokens = ok(await runCli(['token', 'list', '--user', 'bob'], { env }), 'token list').stdout;
    assert.match(tokens, /\tactive\tread,publish-update\tmv-\*/);
    const ownersRes = await httpRequest(`${server.url}/api/v1/crates/mv-alpha/owners`, { headers: { authorization: bobToken } });
    assert.equal(ownersRes.status, 200, ownersRes.body.toString());
    assert.deepEqual((JSON.parse(ownersRes.body.toString()) as { users: { login: string }[] }).users.map((u) => u.login).sort(), [
      'admin',
      'bob',
    ]);
    assert.match(ok(await runCli(['group', 'list', 'core'], { env }), 'group list').stdout, /^bob$/m);
    // Ids continue after the imported ones.
    ok(await runCli(['user', 'add', 'carol'], { env }), 'a new user after import');
    await stop(server);

    archives.fromPostgres = join(makeTempDir('cratekeeper-export-'), 'archive');
    ok(await runCli(['export', archives.fromPostgres], { env }), 'export from PostgreSQL');
  });

  it('archive → SQLite + disk: the same rows, and cargo builds with the old tokens', async () => {
    // Apart from crates.downloads (migration 8), the running total that the build below adds to.
    const withoutTotals = (rows: Record<string, unknown>[]) => rows.map(({ downloads: _total, ...row }) => row);
    for (const table of ['crates', 'versions', 'crate_owners', 'group_members']) {
      assert.deepEqual(
        withoutTotals(rowsOf(archives.fromPostgres, table)),
        withoutTotals(rowsOf(archives.fromSqlite, table)),
        `${table} changed on the way`,
      );
    }
    const total = (dir: string, crate: string) => rowsOf(dir, 'crates').find((r) => r.name === crate)?.downloads;
    assert.equal(total(archives.fromPostgres, 'mv-beta'), Number(total(archives.fromSqlite, 'mv-beta')) + 1);
    // The counts arrived whole, and the build on PostgreSQL added its downloads (not of the yanked 0.1.0).
    assert.deepEqual(downloadsOf(archives.fromPostgres), { 'mv-alpha 0.1.0': HISTORY_DAYS + 2, 'mv-alpha 0.1.1': 1, 'mv-beta 0.1.0': 2 });
    const history = (dir: string) => rowsOf(dir, 'version_downloads').filter((r) => String(r.day) < '2020-01-01');
    assert.deepEqual(history(archives.fromPostgres), history(archives.fromSqlite));
    const users = rowsOf(archives.fromPostgres, 'users');
    assert.deepEqual(users.slice(0, 2), rowsOf(archives.fromSqlite, 'users'));
    assert.equal(users[2]!.id, 3);
    // Tokens are the same but for when they were last used (the build above used one).
    const strip = (rows: Record<string, unknown>[]) => rows.map(({ last_used_at: _, ...rest }) => rest);
    assert.deepEqual(strip(rowsOf(archives.fromPostgres, 'tokens')), strip(rowsOf(archives.fromSqlite, 'tokens')));

    const dataDir = makeTempDir('cratekeeper-data-');
    ok(await runCli(['import', archives.fromPostgres, '--data-dir', dataDir]), 'import into SQLite');
    // Each version's total of all time is not in the archive: the import sums the history it loaded.
    const imported = openSqliteConnection(join(dataDir, 'cratekeeper.sqlite3'));
    try {
      const totals = imported.prepare('select crate, version, count from version_download_totals').all() as {
        crate: string;
        version: string;
        count: number;
      }[];
      assert.deepEqual(Object.fromEntries(totals.map((t) => [`${t.crate} ${t.version}`, t.count])), downloadsOf(archives.fromPostgres));
    } finally {
      imported.close();
    }
    const server = await startRegistry({ dataDir });
    await buildsWith(server, adminToken);
    await stop(server);

    // A registry that is not empty is refused.
    const again = await runCli(['import', archives.fromPostgres, '--data-dir', dataDir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /cratekeeper: the target registry is not empty \(table \w+ has rows\)/);
  });

  it('refuses an archive whose .crate or table file does not match its checksum, and writes no rows', async () => {
    const damaged = join(makeTempDir('cratekeeper-export-'), 'archive');
    cpSync(archives.fromSqlite, damaged, { recursive: true });
    const blob = join(damaged, 'blobs', readdirSync(join(damaged, 'blobs'))[0]!);
    const bytes = readFileSync(blob);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(blob, bytes);
    const dataDir = makeTempDir('cratekeeper-data-');
    const res = await runCli(['import', damaged, '--data-dir', dataDir]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /cratekeeper: blobs\/[0-9a-f]{64}\.crate is damaged: its SHA-256 is [0-9a-f]{64}/);
    // Nothing was written: the intact archive still goes in.
    ok(await runCli(['import', archives.fromSqlite, '--data-dir', dataDir]), 'import after the refusal');

    const edited = join(makeTempDir('cratekeeper-export-'), 'archive');
    cpSync(archives.fromSqlite, edited, { recursive: true });
    const tokens = join(edited, 'tables', 'tokens.jsonl');
    writeFileSync(tokens, readFileSync(tokens, 'utf8').replace('"scopes":"[\\"read\\",\\"publish-update\\"]"', '"scopes":null'));
    const tampered = await runCli(['import', edited, '--data-dir', makeTempDir('cratekeeper-data-')]);
    assert.equal(tampered.code, 2);
    assert.match(tampered.stderr, /tables\/tokens\.jsonl is damaged/);
  });
});
