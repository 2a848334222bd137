// The sealed sign-in cookie against a real SQLite store (which keeps the key): a flow comes back as
// sealed, every replica sharing the database can open it, and a cookie that was changed, cut,
// sealed with another key or is older than ten minutes opens to nothing.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { LOGIN_COOKIE, readCookie, SessionCookies, type LoginFlow } from '../../src/auth/session-cookie.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { makeTempDir } from '../support/temp-dir.js';

const START = Date.parse('2030-06-01T12:00:00Z');
const flow: LoginFlow = { purpose: 'web', next: '/crates/foo', state: 's-1', nonce: 'n-1', codeVerifier: 'v-1', csrf: 'c-1' };

/** The cookie's value, as the browser sends it back. */
function valueOf(setCookie: string): string {
  return setCookie.slice(`${LOGIN_COOKIE}=`.length, setCookie.indexOf(';'));
}

describe('SessionCookies', () => {
  let store: MetadataDatabase;
  let otherStore: MetadataDatabase;
  let clock = START;
  const now = () => clock;

  before(async () => {
    const dir = makeTempDir('cratekeeper-session-cookie-');
    store = await openSqliteDatabase(join(dir, 'a.sqlite'));
    otherStore = await openSqliteDatabase(join(dir, 'b.sqlite'));
  });
  after(async () => {
    await store.close();
    await otherStore.close();
  });

  it('seals a flow into an HTTP-only, SameSite=Lax cookie for /me that lives ten minutes', async () => {
    clock = START;
    const cookie = await new SessionCookies(store.secrets, () => false, now).seal(flow);
    assert.match(cookie, /^ck_login=[A-Za-z0-9_-]+; Path=\/me; Max-Age=600; HttpOnly; SameSite=Lax$/);
    assert.doesNotMatch(cookie, /s-1|n-1|v-1|crates/, 'the flow is not readable in the cookie');
    assert.match(await new SessionCookies(store.secrets, () => true, now).seal(flow), /; Secure$/);
    assert.equal(new SessionCookies(store.secrets, () => true, now).clear(), 'ck_login=; Path=/me; Max-Age=0; HttpOnly; SameSite=Lax; Secure');
  });

  it('unseals what it sealed, also on another replica sharing the database', async () => {
    clock = START;
    const value = valueOf(await new SessionCookies(store.secrets, () => false, now).seal(flow));
    const header = `other=1; ${LOGIN_COOKIE}=${value}; more=2`;
    const opened = await new SessionCookies(store.secrets, () => false, now).unseal(header);
    assert.deepEqual({ ...opened, exp: undefined }, { ...flow, exp: undefined });
  });

  it('two seals of the same flow differ (a fresh IV each time)', async () => {
    const cookies = new SessionCookies(store.secrets, () => false, now);
    assert.notEqual(valueOf(await cookies.seal(flow)), valueOf(await cookies.seal(flow)));
  });

  it('refuses a cookie with any byte changed', async () => {
    clock = START;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    const bytes = Buffer.from(valueOf(await cookies.seal({ purpose: 'token' })), 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes);
      tampered[i]! ^= 0x01;
      assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${tampered.toString('base64url')}`), undefined, `byte ${i}`);
    }
  });

  it('refuses a truncated, empty, missing or garbage cookie', async () => {
    clock = START;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    const value = valueOf(await cookies.seal(flow));
    for (const cut of [value.length - 1, value.length - 4, 40, 20, 1]) {
      assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${value.slice(0, cut)}`), undefined, `cut to ${cut}`);
    }
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=`), undefined);
    assert.equal(await cookies.unseal(undefined), undefined);
    assert.equal(await cookies.unseal(`x${LOGIN_COOKIE}=${value}`), undefined, 'another cookie whose name ends alike');
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${'A'.repeat(200)}`), undefined);
  });

  it('refuses a cookie sealed with another key (another registry\'s database)', async () => {
    clock = START;
    const value = valueOf(await new SessionCookies(otherStore.secrets, () => false, now).seal(flow));
    assert.equal(await new SessionCookies(store.secrets, () => false, now).unseal(`${LOGIN_COOKIE}=${value}`), undefined);
    assert.ok(await new SessionCookies(otherStore.secrets, () => false, now).unseal(`${LOGIN_COOKIE}=${value}`));
  });

  it('refuses a cookie ten minutes after it was sealed, whatever its Max-Age said to the browser', async () => {
    clock = START;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    const header = `${LOGIN_COOKIE}=${valueOf(await cookies.seal(flow))}`;
    clock = START + 599_999;
    assert.ok(await cookies.unseal(header));
    clock = START + 600_000;
    assert.equal(await cookies.unseal(header), undefined);
  });

  it('a failure to read the key does not stick: the next call tries the database again', async () => {
    let failures = 1;
    const flaky = Object.create(store.secrets, {
      getOrCreateSecret: {
        value: (name: string, make: () => string) => (failures-- > 0 ? Promise.reject(new Error('database down')) : store.secrets.getOrCreateSecret(name, make)),
      },
    }) as MetadataDatabase['secrets'];
    const cookies = new SessionCookies(flaky, () => false, now);
    await assert.rejects(cookies.seal(flow), /database down/);
    clock = START;
    const value = valueOf(await cookies.seal(flow));
    assert.ok(await new SessionCookies(store.secrets, () => false, now).unseal(`${LOGIN_COOKIE}=${value}`));
  });

  it('readCookie finds a cookie by its exact name', () => {
    assert.equal(readCookie('a=1; ck_login=xyz; b=2', 'ck_login'), 'xyz');
    assert.equal(readCookie('a=1;ck_login = v=w ', 'ck_login'), 'v=w');
    assert.equal(readCookie('my_ck_login=1', 'ck_login'), undefined);
    assert.equal(readCookie('ck_login', 'ck_login'), undefined);
    assert.equal(readCookie(undefined, 'ck_login'), undefined);
  });
});
