// Password sign-in limits with many people behind one address (NAT): failures for one name from one
// address block that name there only; refused attempts cost no hashing and count nowhere, successful
// ones are taken back, and attempts sent at once cannot all slip under a limit; trying many names
// from one address blocks the address; one name from many addresses blocks the name.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteDatabase } from '../../src/adapters/metadata/sqlite.js';
import type { SqlMetadataDatabase } from '../../src/adapters/metadata/sql-database.js';
import { PasswordLogin, hashPassword, passwordLimits } from '../../src/auth/password.js';
import type { LoginConfig } from '../../src/config/oidc-schema.js';
import { RegistryError } from '../../src/domain/errors.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const SETTINGS = {
  registry_name: 'private',
  attempts_per_minute_per_login: 5,
  attempts_per_minute_per_address: 20,
  attempts_per_minute_per_login_total: 20,
} satisfies LoginConfig;

const PASSWORDS: Record<string, string> = { bob: 'bob has a long password', carol: 'carol has a long password' };

describe('password sign-in limits', () => {
  let store: SqlMetadataDatabase;
  let lookups = 0;
  before(async () => {
    store = await openSqliteDatabase(join(makeTempDir('cratekeeper-passwords-'), 'db.sqlite'));
    for (const [login, password] of Object.entries(PASSWORDS)) {
      const user = await store.users.createUser(login, false);
      await store.users.setPasswordHash(user.id, await hashPassword(password));
    }
    const find = store.users.findPasswordHash.bind(store.users);
    store.users.findPasswordHash = (login: string) => {
      lookups++;
      return find(login);
    };
  });
  after(() => store.close());

  function login() {
    const clock = { ms: 1_700_000_000_000 };
    const passwords = new PasswordLogin(
      store.users,
      passwordLimits(SETTINGS, () => clock.ms),
    );
    /** 'ok', 'wrong' or the rate-limit message. */
    const attempt = async (name: string, address: string, right = false): Promise<string> => {
      try {
        await passwords.verify(name, right ? PASSWORDS[name]! : 'not the password', address);
        return 'ok';
      } catch (error) {
        assert.ok(error instanceof RegistryError, String(error));
        if (error.code === 'wrong-password') return 'wrong';
        assert.equal(error.kind, 'rate-limited');
        assert.ok(error.retryAfterSeconds! >= 1);
        return error.message.replace(/; try again in \d+ s$/, '');
      }
    };
    return { clock, attempt };
  }

  it('failures for one name from one address block that name there, not that name elsewhere nor other names there', async () => {
    const { attempt } = login();
    for (let i = 0; i < 5; i++) assert.equal(await attempt('bob', '10.0.0.1'), 'wrong');
    assert.equal(await attempt('bob', '10.0.0.1', true), 'too many failed sign-in attempts for this user');
    assert.equal(await attempt('bob', '10.0.0.2', true), 'ok');
    assert.equal(await attempt('carol', '10.0.0.1', true), 'ok');
  });

  it('attempts refused by a limit are not hashed and count nowhere: the address keeps its allowance for the others', async () => {
    const { attempt } = login();
    for (let i = 0; i < 5; i++) await attempt('bob', '10.0.0.1');
    const before = lookups;
    for (let i = 0; i < 100; i++) assert.equal(await attempt('bob', '10.0.0.1'), 'too many failed sign-in attempts for this user');
    assert.equal(lookups, before, 'refused attempts looked the user up (and hashed)');
    // 20 failures an address: bob's 5, then 15 typos by colleagues, all still answered.
    for (let i = 0; i < 15; i++) assert.equal(await attempt(`colleague${i}`, '10.0.0.1'), 'wrong');
    assert.equal(await attempt('carol', '10.0.0.1', true), 'too many failed sign-in attempts from this address');
  });

  it('trying many names from one address blocks the address; one name from many addresses blocks the name', async () => {
    const { attempt } = login();
    for (let i = 0; i < 20; i++) assert.equal(await attempt(`user${i}`, '10.0.1.1'), 'wrong');
    assert.equal(await attempt('carol', '10.0.1.1', true), 'too many failed sign-in attempts from this address');
    assert.equal(await attempt('carol', '10.0.1.2', true), 'ok');

    for (let a = 1; a <= 4; a++) for (let i = 0; i < 5; i++) assert.equal(await attempt('bob', `10.0.2.${a}`), 'wrong');
    assert.equal(await attempt('bob', '10.0.2.99', true), 'too many failed sign-in attempts for this user from several addresses');
  });

  it('attempts sent all at once: no more than the limit are hashed', async () => {
    const { attempt } = login();
    const before = lookups;
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt('bob', '10.0.4.1')));
    assert.equal(results.filter((r) => r === 'wrong').length, 5, results.join(', '));
    assert.equal(results.filter((r) => r === 'too many failed sign-in attempts for this user').length, 15);
    assert.equal(lookups - before, 5);
  });

  it('successful sign-ins count nowhere: many people signing in behind one address use none of its allowance', async () => {
    const { attempt } = login();
    for (let i = 0; i < 30; i++) assert.equal(await attempt(i % 2 ? 'carol' : 'bob', '10.0.5.1', true), 'ok');
    for (let i = 0; i < 20; i++) assert.equal(await attempt(`typo${i}`, '10.0.5.1'), 'wrong');
    assert.equal(await attempt('carol', '10.0.5.1', true), 'too many failed sign-in attempts from this address');
  });

  it('the window slides: a name blocked at an address may sign in again once its failures have slid out', async () => {
    const { clock, attempt } = login();
    for (let i = 0; i < 5; i++) await attempt('bob', '10.0.3.1');
    assert.notEqual(await attempt('bob', '10.0.3.1', true), 'ok');
    clock.ms += 3 * 60_000;
    assert.equal(await attempt('bob', '10.0.3.1', true), 'ok');
  });
});
