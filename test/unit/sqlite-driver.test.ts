// The SQLite driver loader: better-sqlite3 12 on Node 20, 13 from Node 22 on (12 aborts on Node
// 24.19+ when the garbage collector frees its objects); a driver npm left out is named with the
// fix; and on the running Node, databases and thousands of statements opened through it survive
// the garbage collector. `npm test` runs this file under Node 20, 22 and 24.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { loadSqliteDriver, sqliteDriverPackage, SqliteDriverMissingError } from '../../src/adapters/metadata/sqlite-driver.js';

const DRIVER_MODULE = new URL('../../src/adapters/metadata/sqlite-driver.js', import.meta.url).href;

// Opens and closes databases through the loader, running and dropping many statements, and lets
// the event loop turn between rounds: V8 finishes its collections in tasks the event loop runs,
// outside any JavaScript, which is where better-sqlite3 12 aborts on Node 24.19+ (8 runs of 8 with
// 12 under Node 24.21). The pause is no wait for a result: nothing below depends on when, or
// whether, the collector runs.
const CHURN = `
import { setTimeout as turn } from 'node:timers/promises';
const { openSqliteConnection } = await import(process.argv[1]);
for (let round = 0; round < 40; round++) {
  const db = openSqliteConnection(':memory:');
  db.exec('create table t (n integer)');
  for (let i = 0; i < 2000; i++) db.prepare('insert into t (n) values (' + i + ')').run();
  const total = db.prepare('select count(*) as c from t').get().c;
  if (total !== 2000) throw new Error('counted ' + total);
  db.close();
  await turn(1);
}
process.stdout.write('survived ' + process.version + '\\n');
`;

describe('the SQLite driver', () => {
  it('is better-sqlite3 12 on Node 20 and 13 from Node 22 on', () => {
    assert.equal(sqliteDriverPackage('20.12.0'), 'better-sqlite3-12');
    assert.equal(sqliteDriverPackage('20.20.2'), 'better-sqlite3-12');
    assert.equal(sqliteDriverPackage('22.0.0'), 'better-sqlite3');
    assert.equal(sqliteDriverPackage('22.23.3'), 'better-sqlite3');
    assert.equal(sqliteDriverPackage('24.21.0'), 'better-sqlite3');
  });

  it('when npm left it out, says which driver this Node needs and how to get it', () => {
    const nowhere = new URL(`file://${makeTempDir('cratekeeper-no-driver-')}/`);
    for (const [node, driver] of [
      ['20.20.2', 'better-sqlite3 12, installed as better-sqlite3-12'],
      ['24.21.0', 'better-sqlite3 13'],
    ] as const) {
      assert.throws(
        () => loadSqliteDriver(node, nowhere),
        (error: unknown) => {
          assert.ok(error instanceof SqliteDriverMissingError);
          assert.equal(error.name, 'RegistryError', 'the CLI prints it as one line');
          assert.match(error.message, new RegExp(`needs ${driver}.* on Node ${node}, and it is not installed`));
          assert.match(error.message, /Reinstall cratekeeper under this Node/);
          assert.match(error.message, /PostgreSQL \(database\.url\)/);
          return true;
        },
      );
    }
  });

  it('loads on this Node, and its databases and statements survive the garbage collector', { timeout: 120_000 }, async () => {
    const run = await runProgram(process.execPath, ['--input-type=module', '-e', CHURN, DRIVER_MODULE]);
    assert.equal(run.code, 0, `exit ${run.code}: ${run.stderr}`);
    assert.equal(run.stdout, `survived ${process.version}\n`);
  });
});
