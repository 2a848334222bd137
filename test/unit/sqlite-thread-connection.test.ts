// The connections of the SQLite threads: a small page cache on both (better-sqlite3's 16 MB each
// was 35 MB of resident memory), read-only for the reader, and the server's durability and foreign
// keys for the writer.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteConnection, sqliteDriverPath } from '../../src/adapters/metadata/sqlite-driver.js';
import { openThreadConnection, THREAD_PAGE_CACHE_KIB } from '../../src/adapters/metadata/sqlite-thread-connection.js';
import type { ThreadSettings } from '../../src/adapters/metadata/sqlite-threads.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const dir = makeTempDir('cratekeeper-thread-connection-');
const file = join(dir, 'metadata.sqlite');
const setup = openSqliteConnection(file);
setup.exec('create table t (n integer)');
setup.close();

const settings = (role: ThreadSettings['role']): ThreadSettings => ({ file, busyTimeoutMs: 1000, driverPath: sqliteDriverPath(), role });
const pragma = (connection: ReturnType<typeof openThreadConnection>, name: string) => connection.pragma(name, { simple: true });

describe('the connections of the SQLite threads', () => {
  it('give both threads a page cache of THREAD_PAGE_CACHE_KIB, well below the default of the driver', () => {
    const fresh = openSqliteConnection(file);
    assert.ok(Number(pragma(fresh, 'cache_size')) < -THREAD_PAGE_CACHE_KIB * 4, 'the default of the driver is larger');
    fresh.close();
    for (const role of [{ kind: 'reader' }, { kind: 'writer', checkpointMs: 1000 }] as const) {
      const connection = openThreadConnection(settings(role));
      assert.equal(pragma(connection, 'cache_size'), -THREAD_PAGE_CACHE_KIB, role.kind);
      connection.close();
    }
  });

  it('open the reader read-only, and the writer with full synchronous commits and foreign keys', () => {
    const reader = openThreadConnection(settings({ kind: 'reader' }));
    assert.throws(() => reader.exec('insert into t (n) values (1)'), /readonly/);
    reader.close();
    const writer = openThreadConnection(settings({ kind: 'writer', checkpointMs: 1000 }));
    assert.equal(pragma(writer, 'synchronous'), 2);
    assert.equal(pragma(writer, 'foreign_keys'), 1);
    writer.exec('insert into t (n) values (1)');
    writer.close();
  });
});
