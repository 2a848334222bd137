// Statements reused by their text: one prepare for a query run many times, a stream that is still
// being read does not make the same query busy, and the number kept is bounded.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Kysely, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { reusingStatements } from '../../src/adapters/metadata/sqlite-statement-cache.js';

interface Schema {
  numbers: { n: number };
}

/** An in-memory database whose prepares are counted. */
function counted(maxStatements?: number): { db: Kysely<Schema>; prepares: () => number } {
  const connection = openSqliteConnection(':memory:');
  connection.exec('create table numbers (n integer not null)');
  connection.exec('insert into numbers (n) values (1), (2), (3)');
  let prepares = 0;
  const countingPrepares: SqliteDatabase = {
    close: () => connection.close(),
    prepare: (text: string) => {
      prepares++;
      return connection.prepare(text);
    },
  };
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: reusingStatements(countingPrepares, maxStatements) }) });
  return { db, prepares: () => prepares };
}

const byValue = (db: Kysely<Schema>, n: number) => db.selectFrom('numbers').select('n').where('n', '=', n).executeTakeFirst();

describe('reusingStatements', () => {
  it('prepares a query once however often it runs, with each run its own parameters', async () => {
    const { db, prepares } = counted();
    for (const n of [1, 2, 3, 1]) assert.deepEqual(await byValue(db, n), { n });
    assert.equal(prepares(), 1);
    await db.insertInto('numbers').values({ n: 4 }).execute();
    await db.insertInto('numbers').values({ n: 5 }).execute();
    assert.equal(prepares(), 2, 'the insert too, once');
    assert.deepEqual(await byValue(db, 5), { n: 5 });
    await db.destroy();
  });

  it('runs a query while a stream of the same query is still being read', () => {
    // Straight on the wrapped connection: Kysely itself gives one connection to one query at a time.
    const connection = openSqliteConnection(':memory:');
    connection.exec('create table numbers (n integer not null); insert into numbers (n) values (1), (2), (3)');
    const database = reusingStatements(connection);
    const text = 'select n from numbers order by n';
    const stream = database.prepare(text).iterate([]);
    assert.deepEqual(stream.next().value, { n: 1 });
    assert.equal(database.prepare(text).all([]).length, 3, 'the same text, run in the middle of the stream');
    assert.deepEqual([...stream], [{ n: 2 }, { n: 3 }]);
    database.close();
  });

  it('keeps a bounded number of statements, preparing a dropped one again when it is asked for', async () => {
    const { db, prepares } = counted(2);
    for (let i = 0; i < 5; i++) await sql`select ${sql.lit(i)} as n`.execute(db);
    assert.equal(prepares(), 5);
    await sql`select ${sql.lit(0)} as n`.execute(db);
    assert.equal(prepares(), 6, 'the first text was dropped to stay within two');
    await db.destroy();
  });
});
