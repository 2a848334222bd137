// SQLite with a write lock held by another process (as a long CLI command would hold it): a write
// waits `database.busy_timeout_ms`, then answers 503 naming the database (not a 500, not a hang),
// and writes nothing; once the lock is released the same publish goes through.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));

// The compiled driver loader, so that the child loads the same better-sqlite3 as the server.
const SQLITE_DRIVER = new URL('../../src/adapters/metadata/sqlite-driver.js', import.meta.url).href;

// Takes SQLite's write lock and keeps it until its standard input closes.
const HOLD_LOCK = `
const { openSqliteConnection } = await import(process.argv[2]);
const db = openSqliteConnection(process.argv[1]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
process.stdin.resume();
process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); });
`;

async function holdWriteLock(file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', HOLD_LOCK, file, SQLITE_DRIVER], {
    cwd: REPO,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal(line.toString().trim(), 'locked');
  return child;
}

describe('SQLite locked by another process', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ 'database.busy_timeout_ms': '200' });
  });
  after(() => r.close());

  it('a publish answers 503 naming the database while the lock is held, and goes through after', async () => {
    const body = await publishBodyFor('locked-out', '1.0.0');
    const holder = await holdWriteLock(join(r.dataDir, 'cratekeeper.sqlite3'));
    try {
      const refused = await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: body });
      assert.equal(refused.statusCode, 503, refused.body);
      assert.deepEqual(JSON.parse(refused.body), { errors: [{ detail: 'the database is busy; try again shortly' }] });
      assert.ok(Number(refused.headers['retry-after']) > 0, 'no Retry-After on a 503');
    } finally {
      holder.stdin!.end();
      await once(holder, 'exit');
    }
    assert.equal((await r.request({ method: 'GET', url: '/index/lo/ck/locked-out', token: r.adminToken })).statusCode, 404);
    const published = await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: body });
    assert.equal(published.statusCode, 200, published.body);
  });
});
