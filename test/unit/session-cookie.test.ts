// The sealed sign-in cookie against a real SQLite store (which keeps the key): a flow comes back as
// sealed, every replica sharing the database can open it, and a cookie that was changed, cut,
// sealed with another key or another algorithm, sealed in the hand-made format of earlier versions,
// or is older than ten minutes opens to nothing. It stays small enough for any browser to keep.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EncryptJWT } from 'jose';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import { LOGIN_COOKIE, readCookie, SessionCookies, type LoginFlow } from '../../src/auth/session-cookie.js';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import type { ServerSecrets } from '../../src/ports/server-secrets.js';
import { legacyLoginCookieValue } from '../support/legacy-login-cookie.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const START = Date.parse('2030-06-01T12:00:00Z');
// Values long enough that random ciphertext cannot contain one by chance (the test below looks for them).
const flow: LoginFlow = {
  purpose: 'web',
  next: '/crates/flow-next-path',
  state: 'flow-state-7f3a9c',
  nonce: 'flow-nonce-5eed42',
  codeVerifier: 'flow-verifier-c0ffee',
  csrf: 'flow-csrf-b4d9e1',
};

/** The cookie's value, as the browser sends it back. */
function valueOf(setCookie: string): string {
  return setCookie.slice(`${LOGIN_COOKIE}=`.length, setCookie.indexOf(';'));
}

/** The database's login-cookie key, as raw bytes (what another program holding it could seal with). */
async function rawKey(secrets: ServerSecrets): Promise<Uint8Array> {
  const key = Buffer.from(await secrets.getOrCreateSecret('login-cookie-key', () => 'not-the-key'), 'base64url');
  assert.equal(key.length, 32, 'the key sealing made exists by now');
  return key;
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
    // A compact JWE: header, no encrypted key (`dir`), a 96-bit IV, the ciphertext, a 128-bit tag.
    assert.match(
      cookie,
      /^ck_login=[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}; Path=\/me; Max-Age=600; HttpOnly; SameSite=Lax$/,
    );
    assert.deepEqual(JSON.parse(Buffer.from(valueOf(cookie).split('.')[0]!, 'base64url').toString()), { alg: 'dir', enc: 'A256GCM' });
    // Neither in the cookie as sent nor in any of its parts decoded.
    const readable = [
      cookie,
      ...valueOf(cookie)
        .split('.')
        .map((part) => Buffer.from(part, 'base64url').toString('latin1')),
    ];
    for (const secret of [flow.next, flow.state, flow.nonce, flow.codeVerifier, flow.csrf] as string[]) {
      assert.ok(!readable.some((text) => text.includes(secret)), `the flow's ${secret} is readable in the cookie`);
    }
    assert.match(await new SessionCookies(store.secrets, () => true, now).seal(flow), /; Secure$/);
    assert.equal(
      new SessionCookies(store.secrets, () => true, now).clear(),
      'ck_login=; Path=/me; Max-Age=0; HttpOnly; SameSite=Lax; Secure',
    );
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

  it('refuses a cookie with any byte changed, in any of its parts, or a byte added where none belongs', async () => {
    clock = START;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    const parts = valueOf(await cookies.seal({ purpose: 'token' })).split('.');
    assert.equal(parts.length, 5);
    const withPart = (index: number, bytes: Buffer) => parts.map((p, i) => (i === index ? bytes.toString('base64url') : p)).join('.');
    assert.ok(await cookies.unseal(`${LOGIN_COOKIE}=${withPart(0, Buffer.from(parts[0]!, 'base64url'))}`), 'rebuilt unchanged, it opens');
    let tried = 0;
    for (const [index, part] of parts.entries()) {
      const bytes = Buffer.from(part, 'base64url');
      for (let i = 0; i < bytes.length; i++) {
        const tampered = Buffer.from(bytes);
        tampered[i]! ^= 0x01;
        assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${withPart(index, tampered)}`), undefined, `part ${index}, byte ${i}`);
        tried++;
      }
    }
    assert.ok(tried > 29 + 12 + 16, 'header, IV, ciphertext and tag were all tried');
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${withPart(1, Buffer.from([0]))}`), undefined, 'an encrypted key under dir');
  });

  it('refuses a truncated, empty, missing or garbage cookie', async () => {
    clock = START;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    const value = valueOf(await cookies.seal(flow));
    for (const cut of [value.length - 1, value.length - 4, value.lastIndexOf('.'), value.lastIndexOf('.') + 1, 40, 20, 1]) {
      assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${value.slice(0, cut)}`), undefined, `cut to ${cut}`);
    }
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=`), undefined);
    assert.equal(await cookies.unseal(undefined), undefined);
    assert.equal(await cookies.unseal(`x${LOGIN_COOKIE}=${value}`), undefined, 'another cookie whose name ends alike');
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${'A'.repeat(200)}`), undefined);
  });

  it("refuses a cookie sealed with another key (another registry's database)", async () => {
    clock = START;
    const value = valueOf(await new SessionCookies(otherStore.secrets, () => false, now).seal(flow));
    assert.equal(await new SessionCookies(store.secrets, () => false, now).unseal(`${LOGIN_COOKIE}=${value}`), undefined);
    assert.ok(await new SessionCookies(otherStore.secrets, () => false, now).unseal(`${LOGIN_COOKIE}=${value}`));
  });

  it('refuses a cookie sealed in the hand-made format of earlier versions, so its holder signs in again', async () => {
    clock = START;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    await cookies.seal(flow); // the key exists, as it would in an upgraded registry
    const legacy = await legacyLoginCookieValue(store.secrets, flow, START);
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${legacy}`), undefined);
    assert.ok(await cookies.unseal(`${LOGIN_COOKIE}=${valueOf(await cookies.seal(flow))}`), 'a new sign-in works');
  });

  it('refuses a JWE under the same key that is not dir + A256GCM with an expiry', async () => {
    clock = START;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    await cookies.seal(flow);
    const key = await rawKey(store.secrets);
    const exp = START / 1000 + 600;
    const wrapped = await new EncryptJWT({ ...flow })
      .setProtectedHeader({ alg: 'A256GCMKW', enc: 'A256GCM' })
      .setExpirationTime(exp)
      .encrypt(key);
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${wrapped}`), undefined, 'A256GCMKW');
    const forever = await new EncryptJWT({ ...flow }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).encrypt(key);
    assert.equal(await cookies.unseal(`${LOGIN_COOKIE}=${forever}`), undefined, 'no exp');
    const proper = await new EncryptJWT({ ...flow }).setProtectedHeader({ alg: 'dir', enc: 'A256GCM' }).setExpirationTime(exp).encrypt(key);
    assert.ok(await cookies.unseal(`${LOGIN_COOKIE}=${proper}`), 'the same, sealed as seal() does, opens');
  });

  it('stays within the 4096 bytes a browser keeps for a cookie, with every field of a sign-in filled', async () => {
    clock = START;
    const random = () => 'x'.repeat(43); // 32 random bytes in base64url, as openid-client and the form make them
    const longPage = `/crates/${'a'.repeat(64)}/versions?${'q'.repeat(1_900)}`;
    const full: LoginFlow = {
      purpose: 'replace',
      next: longPage,
      state: random(),
      nonce: random(),
      codeVerifier: random(),
      csrf: random(),
    };
    const cookie = await new SessionCookies(store.secrets, () => true, now).seal(full);
    assert.ok(cookie.length <= 4096, `${cookie.length} bytes`);
    assert.deepEqual(
      { ...(await new SessionCookies(store.secrets, () => true, now).unseal(`${LOGIN_COOKIE}=${valueOf(cookie)}`)), exp: undefined },
      { ...full, exp: undefined },
    );
  });

  /** Seals at `sealedAt`; the cookie opens at START + 599,999 ms and no longer at START + 600,000. */
  async function assertLastsUntilTenMinutesAfterStart(sealedAt: number): Promise<void> {
    clock = sealedAt;
    const cookies = new SessionCookies(store.secrets, () => false, now);
    const header = `${LOGIN_COOKIE}=${valueOf(await cookies.seal(flow))}`;
    clock = START + 599_999;
    assert.ok(await cookies.unseal(header));
    clock = START + 600_000;
    assert.equal(await cookies.unseal(header), undefined);
  }

  it('refuses a cookie ten minutes after it was sealed, whatever its Max-Age said to the browser', async () => {
    await assertLastsUntilTenMinutesAfterStart(START);
  });

  it('counts the ten minutes from the whole second it was sealed in, as before the JWE', async () => {
    await assertLastsUntilTenMinutesAfterStart(START + 999);
  });

  it('a failure to read the key does not stick: the next call tries the database again', async () => {
    let failures = 1;
    const flaky = Object.create(store.secrets, {
      getOrCreateSecret: {
        value: (name: string, make: () => string) =>
          failures-- > 0 ? Promise.reject(new Error('database down')) : store.secrets.getOrCreateSecret(name, make),
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
