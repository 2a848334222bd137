// The DeviceFlow repository's contract (terminal sign-in, ports/device-flow.ts) and disabled
// accounts: a device code is spent once, a refresh token rotates once (a second use is reported as
// a replay and changes nothing), revoking a session revokes its access tokens through the change
// log, and provider grants move to at most one device. Run on SQLite and PostgreSQL by
// metadata-repositories-*.test.ts; each test opens a fresh, empty database.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetadataDatabase } from '../../src/ports/metadata-database.js';
import { freshPerTest } from './fresh-per-test.js';

const AT = '2030-01-01T00:00:00.000Z';
const LATER = '2030-01-01T01:00:00.000Z';

export function deviceFlowContract(name: string, open: () => Promise<MetadataDatabase>): void {
  describe(`DeviceFlow contract: ${name}`, () => {
    const { fresh } = freshPerTest(open);

    async function approved(db: MetadataDatabase, grant: string | null = null) {
      const alice = await db.users.createUser('alice', false);
      const a = await db.deviceFlow.createAuthorization({
        deviceCodeHash: 'dc1',
        userCode: 'BCDFGHJK',
        clientAddress: '10.0.0.1',
        deviceName: 'laptop',
        scopes: ['read'],
        createdAt: AT,
        expiresAt: LATER,
        intervalSeconds: 5,
      });
      assert.equal(
        await db.deviceFlow.decideAuthorization(a.id, { status: 'approved', userId: alice.id, providerRefreshToken: grant }),
        true,
      );
      return { alice, a };
    }

    const sessionOf = (userId: number) => ({
      userId,
      name: 'laptop',
      clientAddress: '10.0.0.1',
      scopes: ['read'],
      createdAt: AT,
      expiresAt: LATER,
    });

    it('stores an authorization, finds it by either code, decides it once and records polls', async () => {
      const db = await fresh();
      const { alice, a } = await approved(db);
      assert.equal((await db.deviceFlow.findAuthorizationByUserCode('BCDFGHJK'))?.id, a.id);
      const found = await db.deviceFlow.findAuthorizationByDeviceCodeHash('dc1');
      assert.deepEqual([found?.status, found?.userId, found?.scopes, found?.intervalSeconds], ['approved', alice.id, ['read'], 5]);
      assert.equal(
        await db.deviceFlow.decideAuthorization(a.id, { status: 'denied', userId: alice.id, providerRefreshToken: null }),
        false,
      );
      await db.deviceFlow.recordPoll(a.id, LATER, 10);
      const polled = await db.deviceFlow.findAuthorizationByUserCode('BCDFGHJK');
      assert.deepEqual([polled?.lastPollAt, polled?.intervalSeconds], [LATER, 10]);
      assert.equal(await db.deviceFlow.findAuthorizationByDeviceCodeHash('nope'), undefined);
    });

    it('spends a device code once, moving the provider grant to the session', async () => {
      const db = await fresh();
      const { alice, a } = await approved(db, 'sealed-grant');
      const access = { hash: 'at1', name: 'device: laptop', expiresAt: LATER };
      const session = await db.deviceFlow.startSession(a.id, sessionOf(alice.id), access, 'rt1');
      assert.ok(session);
      assert.equal(session.providerRefreshToken, 'sealed-grant');
      assert.equal((await db.deviceFlow.findAuthorizationByUserCode('BCDFGHJK'))?.providerRefreshToken, null);
      assert.equal(await db.deviceFlow.startSession(a.id, sessionOf(alice.id), { ...access, hash: 'at2' }, 'rt2'), undefined);
      const principal = await db.tokens.findPrincipalByTokenHash('at1');
      assert.deepEqual([principal?.login, principal?.scopes, principal?.expiresAt], ['alice', ['read'], LATER]);
      assert.equal(await db.tokens.findPrincipalByTokenHash('at2'), undefined);
      assert.equal((await db.deviceFlow.findSessionOfAccessToken('at1'))?.id, session.id);
    });

    it('rotates a refresh token once; a second use is a replay and changes nothing', async () => {
      const db = await fresh();
      const { alice, a } = await approved(db);
      await db.deviceFlow.startSession(a.id, sessionOf(alice.id), { hash: 'at1', name: 'd', expiresAt: LATER }, 'rt1');
      const update = { at: LATER, expiresAt: '2030-02-01T00:00:00.000Z', providerRefreshToken: null };
      assert.equal(await db.deviceFlow.rotateRefreshToken('rt1', 'rt2', { hash: 'at2', name: 'd', expiresAt: LATER }, update), 'rotated');
      assert.equal(await db.tokens.findPrincipalByTokenHash('at1'), undefined, 'the earlier access token is revoked');
      assert.ok(await db.tokens.findPrincipalByTokenHash('at2'));
      const state = await db.deviceFlow.findRefreshToken('rt1');
      assert.equal(state?.usedAt, LATER);
      assert.deepEqual([state?.session.lastRefreshAt, state?.session.expiresAt], [LATER, '2030-02-01T00:00:00.000Z']);
      assert.equal(await db.deviceFlow.rotateRefreshToken('rt1', 'rt3', { hash: 'at3', name: 'd', expiresAt: LATER }, update), 'replayed');
      assert.equal(await db.tokens.findPrincipalByTokenHash('at3'), undefined);
      assert.equal(await db.deviceFlow.findRefreshToken('rt3'), undefined);
    });

    it('revokes a session and its access tokens through the change log, once', async () => {
      const db = await fresh();
      const { alice, a } = await approved(db);
      const session = (await db.deviceFlow.startSession(a.id, sessionOf(alice.id), { hash: 'at1', name: 'd', expiresAt: LATER }, 'rt1'))!;
      const seq = await db.changes.latestChangeSeq();
      assert.equal(await db.deviceFlow.revokeSession(session.id, LATER, 'signed out'), true);
      assert.equal(await db.deviceFlow.revokeSession(session.id, LATER, 'again'), false);
      assert.deepEqual(
        (await db.changes.changesSince(seq)).map((c) => [c.kind, c.subject]),
        [['token', 'at1']],
      );
      assert.equal(await db.tokens.findPrincipalByTokenHash('at1'), undefined);
      const revoked = await db.deviceFlow.findSession(session.id);
      assert.deepEqual([revoked?.revokedAt, revoked?.revokedReason], [LATER, 'signed out']);
      assert.deepEqual(await db.deviceFlow.listSessions(alice.id), []);
      assert.equal(await db.deviceFlow.revokeUserSessions(alice.id, LATER, 'admin'), 0);
    });

    it('keeps a provider grant for one browser session and hands it out once', async () => {
      const db = await fresh();
      const alice = await db.users.createUser('alice', false);
      await db.deviceFlow.storeProviderGrant(41, alice.id, 'sealed-1', AT);
      await db.deviceFlow.storeProviderGrant(41, alice.id, 'sealed-2', AT);
      assert.equal(await db.deviceFlow.hasProviderGrant(41), true);
      assert.equal(await db.deviceFlow.hasProviderGrant(42), false);
      assert.equal(await db.deviceFlow.hasProviderGrant(41), true, 'looking does not take it');
      assert.equal(await db.deviceFlow.takeProviderGrant(41), 'sealed-2');
      assert.equal(await db.deviceFlow.hasProviderGrant(41), false);
      assert.equal(await db.deviceFlow.takeProviderGrant(41), undefined);
    });

    it('disables and enables an account, recorded in the change log, and the principal says so', async () => {
      const db = await fresh();
      const alice = await db.users.createUser('alice', false);
      await db.tokens.insertToken({ userId: alice.id, name: 't', hash: 'h', expiresAt: null });
      const seq = await db.changes.latestChangeSeq();
      assert.equal(await db.users.setDisabled(alice.id, true), true);
      assert.equal(await db.users.setDisabled(alice.id, true), false);
      assert.equal(await db.users.isDisabled(alice.id), true);
      assert.equal((await db.tokens.findPrincipalByTokenHash('h'))?.disabled, true);
      assert.deepEqual(
        (await db.changes.changesSince(seq)).map((c) => [c.kind, c.subject]),
        [['user', String(alice.id)]],
      );
      assert.equal(await db.users.setDisabled(alice.id, false), true);
      assert.equal(await db.users.isDisabled(alice.id), false);
      assert.equal((await db.tokens.findPrincipalByTokenHash('h'))?.disabled, undefined);
    });
  });
}
