// The session store on disk: a folder only the user can enter, a file only the user can read,
// replaced atomically on every write; the refusal of a file others can read; the choice between
// the keyring and the file; and the refresh lock that keeps two processes from spending one
// refresh token.

import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { FileSessionStore } from '../src/session-file-store.js';
import { openSessionStore } from '../src/session-store-choice.js';
import { sessionKey, SessionStoreError, type StoredSession } from '../src/session-store.js';
import { RefreshLockError, withRefreshLock } from '../src/refresh-lock.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const session = (n: number): StoredSession => ({
  access_token: `ckt_${n}`,
  refresh_token: `ckr_${n}`,
  expires_at: 2_000_000_000 + n,
  issued_at: 1_999_990_000,
});

void test('sessions.json: folder 0700, file 0600, each write a new file renamed into place', async () => {
  const dir = join(makeTempDir(), 'config', 'cratekeeper');
  const store = new FileSessionStore(dir);
  assert.equal(await store.read('https://a.example/index/'), undefined, 'no file yet: no session');
  await store.write('https://a.example/index/', session(1));
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  const firstInode = statSync(store.path).ino;

  await store.write('https://b.example/index/', session(2));
  assert.notEqual(statSync(store.path).ino, firstInode, 'the file was replaced by a rename, not rewritten in place');
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(dir), ['sessions.json'], 'no temporary file is left behind');
  assert.deepEqual(await store.read('https://a.example/index/'), session(1));
  assert.deepEqual(await store.read('https://b.example/index/'), session(2));

  assert.equal(await store.delete('https://a.example/index/'), true);
  assert.equal(await store.delete('https://a.example/index/'), false);
  assert.equal(await store.read('https://a.example/index/'), undefined);
  assert.deepEqual(await store.read('https://b.example/index/'), session(2));
});

void test('a sessions.json that group or others can read is refused with the fix', async () => {
  const dir = makeTempDir();
  const store = new FileSessionStore(dir);
  await store.write('https://a.example/index/', session(1));
  chmodSync(store.path, 0o644);
  await assert.rejects(store.read('https://a.example/index/'), (error: Error) => {
    assert.ok(error instanceof SessionStoreError);
    assert.match(error.message, new RegExp(`chmod 600 ${store.path}`));
    return true;
  });
  writeFileSync(store.path, '{ not json', { mode: 0o600 });
  chmodSync(store.path, 0o600);
  await assert.rejects(store.read('https://a.example/index/'), /is not valid JSON .*delete it and sign in again/);
});

void test('session keys: the index URL without sparse+, in URL-normal form', () => {
  assert.equal(sessionKey('sparse+http://127.0.0.1:9000/index/'), 'http://127.0.0.1:9000/index/');
  assert.equal(sessionKey('HTTPS://Reg.Example.COM/index/'), 'https://reg.example.com/index/');
  assert.throws(() => sessionKey('not a url'), SessionStoreError);
});

void test('the store: the file without a keyring, the keyring only where it is usable', () => {
  const home = makeTempDir();
  const file = openSessionStore({ HOME: home, PATH: '/nonexistent' }, 'linux');
  assert.ok(file instanceof FileSessionStore);
  assert.equal(file.path, join(home, '.config', 'cratekeeper', 'sessions.json'));
  const xdg = openSessionStore({ HOME: home, XDG_CONFIG_HOME: join(home, 'xdg'), PATH: '/nonexistent' }, 'linux');
  assert.equal((xdg as FileSessionStore).path, join(home, 'xdg', 'cratekeeper', 'sessions.json'));

  // secret-tool present but no session bus (a server, a CI job): the file.
  const bin = makeTempDir();
  writeFileSync(join(bin, 'secret-tool'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  assert.ok(openSessionStore({ HOME: home, PATH: bin }, 'linux') instanceof FileSessionStore);
  const keyring = openSessionStore({ HOME: home, PATH: bin, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1/bus' }, 'linux');
  assert.equal(keyring.description, 'the Secret Service keyring (secret-tool)');

  assert.throws(
    () => openSessionStore({ HOME: home, PATH: '/nonexistent', CRATEKEEPER_SESSION_STORE: 'keyring' }, 'linux'),
    /no keyring is usable here/,
  );
  assert.ok(
    openSessionStore({ HOME: home, PATH: bin, DBUS_SESSION_BUS_ADDRESS: 'x', CRATEKEEPER_SESSION_STORE: 'file' }, 'linux') instanceof
      FileSessionStore,
  );
  assert.throws(() => openSessionStore({ HOME: home, CRATEKEEPER_SESSION_STORE: 'vault' }, 'linux'), /expected keyring, file or auto/);
});

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

void test('the refresh lock: a second holder waits until the first is done; the file goes away after', async () => {
  const lock = join(makeTempDir(), 'cfg', 'sessions.lock');
  const order: string[] = [];
  const release = deferred();
  const contended = deferred();
  const first = withRefreshLock(lock, async () => {
    order.push('first in');
    await release.promise;
    order.push('first out');
  });
  const second = withRefreshLock(
    lock,
    async () => {
      order.push('second in');
    },
    { onContended: () => contended.resolve() },
  );
  await contended.promise;
  assert.deepEqual(order, ['first in'], 'the second caller is waiting');
  assert.equal(statSync(lock).mode & 0o777, 0o600);
  release.resolve();
  await Promise.all([first, second]);
  assert.deepEqual(order, ['first in', 'first out', 'second in']);
  assert.equal(existsSync(lock), false);

  await assert.rejects(
    withRefreshLock(lock, async () => {
      throw new Error('refresh failed');
    }),
    /refresh failed/,
  );
  assert.equal(existsSync(lock), false, 'a failed action releases the lock');
});

void test('the refresh lock: a lock left by a process that is gone is taken over; a live one times out with the fix', async () => {
  const lock = join(makeTempDir(), 'sessions.lock');
  const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  writeFileSync(lock, `${gone.stdout}\n`);
  assert.equal(await withRefreshLock(lock, async () => 'taken over'), 'taken over');

  writeFileSync(lock, `${process.ppid}\n`); // alive: our parent
  await assert.rejects(
    withRefreshLock(lock, async () => 'never', { timeoutMs: 0 }),
    (error: Error) => {
      assert.ok(error instanceof RefreshLockError);
      assert.match(error.message, /if none is running, delete that file/);
      return true;
    },
  );
});
