// The batched writes of serving (audit events, download counts, token last-use, shared rate
// counts) on SQLite through the writer thread, and index-file reads through the reader thread
// (adapters/metadata/sqlite-threads.ts), as a serving process opens the database: the same
// contracts as on the server's own connection, what a caller sees once a write resolved, errors
// that keep their kind across the thread, and a close that lets every write under way finish.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { openSqliteConnection } from '../../src/adapters/metadata/sqlite-driver.js';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { RegistryError } from '../../src/domain/errors.js';
import type { AuditEvent } from '../../src/ports/audit-log.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { countsOf, downloadCountsContract } from './download-counts.contract.js';
import { freshPerTest } from './fresh-per-test.js';
import { tokensContract } from './tokens.contract.js';
import { cratesContract } from './crates.contract.js';
import { newVersion } from './repository-fixtures.js';

const dir = makeTempDir('cratekeeper-writer-thread-');
let databases = 0;
const newFile = () => join(dir, `metadata-${++databases}.sqlite`);
const open = (file = newFile(), busyTimeoutMs?: number) => openSqliteDatabase(file, { writerThread: true, busyTimeoutMs });

downloadCountsContract('sqlite, writer thread', async () => countsOf(await open()));
tokensContract('sqlite, writer thread', () => open());
// Every index file the contract reads goes through the reader thread, right after the write that changed it.
cratesContract('sqlite, reader thread', () => open());

const event = (detail: string): AuditEvent => ({
  at: '2030-01-01T00:00:00.000Z',
  action: 'download',
  userLogin: 'alice',
  tokenId: 1,
  crate: 'hot',
  version: '1.0.0',
  clientIp: '192.0.2.1',
  userAgent: 'test',
  detail,
  count: 1,
});

describe('background writes through the writer thread (SQLite)', () => {
  const { fresh, closeAfterTest } = freshPerTest(() => open());

  it('appends audit events that the server connection reads as soon as the append resolved, and prunes them', async () => {
    const db = await fresh();
    await db.auditLog.append([event('a'), event('b')]);
    const read = await db.auditLog.query({ limit: 10, offset: 0 });
    assert.deepEqual(read.events.map((e) => e.detail).sort(), ['a', 'b']);
    assert.equal(await db.auditLog.prune('2030-01-02T00:00:00.000Z'), 2);
    assert.equal((await db.auditLog.query({ limit: 10, offset: 0 })).total, 0);
  });

  it('prunes in batches: every old event goes however many batches it takes, and newer ones stay', async () => {
    const db = await fresh();
    const old = Array.from({ length: 4500 }, (_, i) => ({ ...event(`old-${i}`), at: '2026-01-01T00:00:00.000Z' }));
    await db.auditLog.append([...old, { ...event('new'), at: '2026-06-01T00:00:00.000Z' }]);
    assert.equal(await db.auditLog.prune('2026-03-01T00:00:00.000Z'), 4500);
    const left = await db.auditLog.query({ limit: 10, offset: 0 });
    assert.deepEqual([left.total, left.events.map((e) => e.detail)], [1, ['new']]);
  });

  it('adds shared rate counts and prunes old windows', async () => {
    const db = await fresh();
    await db.rateCounts.add('failed-auth', 100, new Map([['192.0.2.1', 3]]));
    await db.rateCounts.add('failed-auth', 101, new Map([['192.0.2.1', 2]]));
    assert.deepEqual([...(await db.rateCounts.busyKeys('failed-auth', 101, 5))], [['192.0.2.1', { previous: 3, current: 2 }]]);
    await db.rateCounts.prune(101);
    assert.deepEqual([...(await db.rateCounts.busyKeys('failed-auth', 101, 1))], [['192.0.2.1', { previous: 0, current: 2 }]]);
  });

  it('finishes every write under way before close resolves', async () => {
    const file = newFile();
    const db = await open(file);
    const writes = Array.from({ length: 20 }, (_, i) => db.auditLog.append([event(String(i))]));
    await db.close();
    await Promise.all(writes);
    const again = await openSqliteDatabase(file);
    closeAfterTest(again);
    assert.equal((await again.auditLog.query({ limit: 100, offset: 0 })).total, 20);
  });

  it('reports a write that finds the database locked as the database being busy, a RegistryError, and changes nothing', async () => {
    const file = newFile();
    const db = await open(file, 50);
    closeAfterTest(db);
    // Another process (a CLI command) holds the write lock.
    const other = openSqliteConnection(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      const error = await db.auditLog.append([event('locked')]).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof RegistryError, String(error));
      assert.equal(error.kind, 'unavailable');
      assert.equal(error.code, 'database-unavailable');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    assert.equal((await db.auditLog.query({ limit: 10, offset: 0 })).total, 0);
    await db.auditLog.append([event('later')]);
    assert.equal((await db.auditLog.query({ limit: 10, offset: 0 })).total, 1);
  });

  it('leaves WAL checkpoints to the writer thread: the server connection never runs one inside its commits', async () => {
    const db = await fresh();
    const { rows } = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(db.db);
    assert.equal(rows[0].wal_autocheckpoint, 0);
  });

  it('reads a multi-megabyte index file on the reader thread, in either form: the same bytes, as a Buffer, and a change as soon as it committed', async () => {
    const db = await fresh();
    const alice = await db.users.createUser('alice', false);
    await db.crates.publishVersion(newVersion('big', '1.0.0', alice.id));
    const large = Buffer.alloc(3 * 1024 * 1024, 'x');
    for (const [body, gzip, etag] of [
      [large, gzipSync(large), '"large"'],
      [Buffer.from('small'), null, '"small"'],
    ] as const) {
      await db.db.updateTable('index_files').set({ body, gzip, etag }).where('name_lower', '=', 'big').execute();
      const read = await db.crates.readIndexFile('big', 'identity');
      assert.ok(Buffer.isBuffer(read?.body));
      assert.deepEqual(Object.keys(read).sort(), ['body', 'etag']);
      assert.equal(read.etag, etag);
      assert.ok(read.body.equals(body));
      const compressed = await db.crates.readIndexFile('big', 'gzip');
      assert.equal(compressed?.etag, etag);
      if (gzip === null) {
        assert.deepEqual(Object.keys(compressed).sort(), ['body', 'etag'], 'no gzip form: the bytes');
        assert.ok(Buffer.isBuffer(compressed.body) && compressed.body.equals(body));
      } else {
        assert.deepEqual(Object.keys(compressed!).sort(), ['etag', 'gzipped'], 'the gzip form alone');
        assert.ok(Buffer.isBuffer(compressed!.gzipped) && compressed!.gzipped.equals(gzip));
      }
    }
    assert.equal(await db.crates.readIndexFile('nothing-here', 'identity'), undefined);
    assert.equal(await db.crates.readIndexFile('nothing-here', 'gzip'), undefined);
    // Off the server's connection: while a transaction there has changed the file and not committed,
    // a read sees the committed file, at once (on that connection it would wait for, or see, the change).
    await db.transaction(async (tx) => {
      await tx.crates.setYanked('big', '1.0.0', true);
      const read = await Promise.race([
        db.crates.readIndexFile('big', 'gzip'),
        new Promise((resolve) => setTimeout(resolve, 5_000, 'waited')),
      ]);
      assert.equal((read as { etag?: string } | undefined)?.etag, '"small"');
    });
  });
});

describe('units of work beside the writer thread (SQLite)', () => {
  const { fresh } = freshPerTest(() => open());

  it('commits a transaction that read, waited, and then wrote while the thread committed meanwhile', async () => {
    const db = await fresh();
    await db.auditLog.append([event('before')]); // the thread is up and has written once
    let meanwhile: Promise<void> | undefined;
    await db.transaction(async (tx) => {
      await tx.users.findUserByLogin('nobody');
      // A publish awaits its blob store and worker threads inside its transaction; the thread
      // writes meanwhile (or, as it must, waits for this transaction to end).
      meanwhile = db.auditLog.append([event('meanwhile')]);
      await Promise.race([meanwhile, new Promise((resolve) => setTimeout(resolve, 300))]);
      await tx.users.createUser('alice', false);
    });
    await meanwhile;
    assert.ok(await db.users.findUserByLogin('alice'));
    assert.equal((await db.auditLog.query({ limit: 10, offset: 0 })).total, 2);
  });
});
