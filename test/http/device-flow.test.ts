// Terminal sign-in over HTTP (issue 17, services/device-flow.ts): the RFC 8628 device flow, the
// approval page, refresh token rotation and replay, the refusals of a refresh, revocation, and
// the refusal of bad input. Time moves through the clock the registry lets tests inject, never
// by waiting.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { formBody, signInWithToken, type PageSession } from '../support/web-session.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const CLIENT = 'cratekeeper-cli';

function form(r: TestRegistry, url: string, fields: Record<string, string>, ip = '10.0.0.7'): Promise<LightMyRequestResponse> {
  return r.request({
    method: 'POST',
    url,
    remoteAddress: ip,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: formBody(fields),
  });
}

function oauthError(res: LightMyRequestResponse, status: number, error: string): { error: string; error_description: string } {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as { error: string; error_description: string };
  assert.equal(body.error, error, res.body);
  assert.equal(typeof body.error_description, 'string');
  return body;
}

interface Started {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function startDevice(r: TestRegistry, fields: Record<string, string> = {}): Promise<Started> {
  const res = await form(r, '/oauth/device_authorization', { client_id: CLIENT, device_name: 'alice@laptop', ...fields });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

const poll = (r: TestRegistry, deviceCode: string) =>
  form(r, '/oauth/token', { grant_type: DEVICE_GRANT, client_id: CLIENT, device_code: deviceCode });
const refresh = (r: TestRegistry, token: string) =>
  form(r, '/oauth/token', { grant_type: 'refresh_token', client_id: CLIENT, refresh_token: token });

async function auditActions(r: TestRegistry): Promise<{ action: string; userLogin: string | null; detail: string | null }[]> {
  await r.registry.audit.flush();
  return (await r.registry.auditLog.query({ limit: 1000, offset: 0 })).events.filter((e) => e.action.startsWith('device-'));
}

describe('terminal sign-in: the device flow', () => {
  let r: TestRegistry;
  let offsetMs = 0;
  const advance = (ms: number) => (offsetMs += ms);
  let alice: PageSession;

  before(async () => {
    r = await startTestRegistry(
      {
        'auth.device_flow.access_token_lifetime': '1h',
        'auth.device_flow.refresh_token_lifetime': '2d',
        'auth.device_flow.code_lifetime': '10m',
        'auth.device_flow.poll_interval': '5s',
        'auth.device_flow.requests_per_minute_per_address': '1000',
      },
      undefined,
      { now: () => Date.now() + offsetMs },
    );
    await r.publishAsAdmin('shared-lib', '1.0.0');
    alice = await signInWithToken(r, await r.userToken('alice'));
  });
  after(() => r?.close());

  /** A device approved by alice, polled until it has its tokens. */
  async function signedInDevice(name = 'alice@laptop') {
    const started = await startDevice(r, { device_name: name });
    const approved = await alice.post('/device/approve', { user_code: started.user_code });
    assert.equal(approved.statusCode, 200, approved.body);
    const res = await poll(r, started.device_code);
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as { access_token: string; refresh_token: string; expires_in: number; scope: string; token_type: string };
  }

  it('publishes where the flow starts, with absolute URLs', async () => {
    const res = await r.request({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.equal(res.statusCode, 200, res.body);
    const doc = res.json();
    assert.equal(doc.device_authorization_endpoint, 'http://registry.test/oauth/device_authorization');
    assert.equal(doc.token_endpoint, 'http://registry.test/oauth/token');
    assert.equal(doc.revocation_endpoint, 'http://registry.test/oauth/revoke');
    assert.deepEqual(doc.grant_types_supported, [DEVICE_GRANT, 'refresh_token']);
    assert.ok(doc.scopes_supported.includes('read'));
  });

  it('runs the flow: pending, slow_down, approval on the page, tokens that work on the index and expire', async () => {
    const started = await startDevice(r);
    assert.match(started.user_code, /^[B-Z]{4}-[B-Z]{4}$/);
    assert.equal(started.verification_uri, 'http://registry.test/device');
    assert.equal(started.verification_uri_complete, `http://registry.test/device?user_code=${started.user_code}`);
    assert.deepEqual([started.expires_in, started.interval], [600, 5]);

    oauthError(await poll(r, started.device_code), 400, 'authorization_pending');
    oauthError(await poll(r, started.device_code), 400, 'slow_down');
    advance(6_000);
    // The interval grew by 5 s: 6 s later is still too soon (and it grows again, to 15 s).
    oauthError(await poll(r, started.device_code), 400, 'slow_down');
    advance(16_000);
    oauthError(await poll(r, started.device_code), 400, 'authorization_pending');

    // The page shows who asks, from where and for what; the code is typed in any case, without the dash.
    const typed = started.user_code.toLowerCase().replace('-', '');
    const page = await alice.get(`/device?user_code=${typed}`);
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, /<td id="device-name">alice@laptop<\/td>/);
    assert.match(page.body, /<td id="device-address">10\.0\.0\.7<\/td>/);
    assert.match(page.body, /<td id="device-scopes">read, publish-new, publish-update<\/td>/);
    const approved = await alice.post('/device/approve', { user_code: typed });
    assert.equal(approved.statusCode, 200, approved.body);
    assert.match(approved.body, /Approved/);

    advance(16_000);
    const res = await poll(r, started.device_code);
    assert.equal(res.statusCode, 200, res.body);
    const tokens = res.json();
    assert.equal(tokens.token_type, 'Bearer');
    assert.equal(tokens.expires_in, 3600);
    assert.equal(tokens.scope, 'read publish-new publish-update');
    assert.match(tokens.access_token, /^ckt_/);
    assert.match(tokens.refresh_token, /^ckr_/);

    const index = await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: tokens.access_token });
    assert.equal(index.statusCode, 200, index.body);
    // Scopes apply as to any token: this one may not yank.
    const yank = await r.request({ method: 'DELETE', url: '/api/v1/crates/shared-lib/1.0.0/yank', token: tokens.access_token });
    assert.equal(yank.statusCode, 403, yank.body);

    // The device code is spent.
    oauthError(await poll(r, started.device_code), 400, 'invalid_grant');

    advance(3_600_000 + 1_000);
    const expired = await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: tokens.access_token });
    assert.equal(expired.statusCode, 401, expired.body);
    assert.match(expired.body, /expired/);

    // A refresh gives a new pair; the new access token works.
    const renewed = await refresh(r, tokens.refresh_token);
    assert.equal(renewed.statusCode, 200, renewed.body);
    const next = renewed.json();
    assert.notEqual(next.refresh_token, tokens.refresh_token);
    const again = await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: next.access_token });
    assert.equal(again.statusCode, 200, again.body);

    const actions = (await auditActions(r)).map((e) => e.action);
    for (const action of ['device-authorization', 'device-approve', 'device-token', 'device-refresh', 'device-code-unknown']) {
      assert.ok(actions.includes(action), `audited ${action}: ${actions.join(', ')}`);
    }
  });

  it('signs the device out when a spent refresh token comes back', async () => {
    const first = await signedInDevice('replayed@box');
    const second = (await refresh(r, first.refresh_token)).json();
    assert.match(second.access_token, /^ckt_/);
    const replay = oauthError(await refresh(r, first.refresh_token), 400, 'invalid_grant');
    assert.match(replay.error_description, /used already/);
    // The whole session is gone: its current access token and refresh token too.
    const index = await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: second.access_token });
    assert.equal(index.statusCode, 401, index.body);
    const after = oauthError(await refresh(r, second.refresh_token), 400, 'invalid_grant');
    assert.match(after.error_description, /signed out on .*a refresh token was used twice/);
    const replayed = (await auditActions(r)).filter((e) => e.action === 'device-refresh-replayed');
    assert.ok(
      replayed.some((e) => e.userLogin === 'alice' && /replayed@box/.test(e.detail ?? '')),
      JSON.stringify(replayed),
    );
  });

  it('answers access_denied when the page refuses, and expired_token when nobody answers in time', async () => {
    const denied = await startDevice(r);
    const page = await alice.post('/device/deny', { user_code: denied.user_code });
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, /Refused/);
    oauthError(await poll(r, denied.device_code), 400, 'access_denied');

    const late = await startDevice(r);
    advance(10 * 60_000 + 1_000);
    oauthError(await poll(r, late.device_code), 400, 'expired_token');
    const stale = await alice.get(`/device?user_code=${late.user_code}`);
    assert.equal(stale.statusCode, 404);
    assert.match(stale.body, /expired/);
    const actions = (await auditActions(r)).map((e) => e.action);
    assert.ok(actions.includes('device-deny'));
  });

  it('refuses forged device codes and refresh tokens, and issues nothing', async () => {
    const before = (await r.registry.accounts.listTokens('alice')).length;
    oauthError(await poll(r, 'forged-device-code'), 400, 'invalid_grant');
    oauthError(await refresh(r, `ckr_${'A'.repeat(43)}`), 400, 'invalid_grant');
    oauthError(await refresh(r, 'not-a-token'), 400, 'invalid_grant');
    assert.equal((await r.registry.accounts.listTokens('alice')).length, before);
    const events = await auditActions(r);
    assert.ok(events.some((e) => e.action === 'device-code-unknown' && e.detail === 'unknown device code'));
    assert.ok(events.some((e) => e.action === 'device-refresh-refused' && e.detail === 'unknown refresh token'));
  });

  it('refuses the refresh of a disabled account, saying so, and its access token too', async () => {
    const bobSession = await signInWithToken(r, await r.userToken('bob'));
    const started = await startDevice(r, { device_name: 'bob@box' });
    assert.equal((await bobSession.post('/device/approve', { user_code: started.user_code })).statusCode, 200);
    const tokens = (await poll(r, started.device_code)).json();
    const bob = (await r.registry.metadata.users.findUserByLogin('bob'))!;
    assert.equal(await r.registry.metadata.users.setDisabled(bob.id, true), true);
    await r.registry.changes.poll();
    const refused = oauthError(await refresh(r, tokens.refresh_token), 400, 'invalid_grant');
    assert.match(refused.error_description, /account bob is disabled/);
    const index = await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: tokens.access_token });
    assert.equal(index.statusCode, 401, index.body);
    assert.match(index.body, /the account bob is disabled/);
    const events = await auditActions(r);
    assert.ok(events.some((e) => e.action === 'device-refresh-refused' && /disabled/.test(e.detail ?? '')));
  });

  it('revokes the session of a refresh or access token, and answers 200 for unknown ones', async () => {
    const tokens = await signedInDevice('revoked@box');
    const res = await form(r, '/oauth/revoke', { client_id: CLIENT, token: tokens.refresh_token });
    assert.equal(res.statusCode, 200, res.body);
    const index = await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: tokens.access_token });
    assert.equal(index.statusCode, 401);
    oauthError(await refresh(r, tokens.refresh_token), 400, 'invalid_grant');
    assert.equal((await form(r, '/oauth/revoke', { client_id: CLIENT, token: 'ckr_unknown' })).statusCode, 200);

    const other = await signedInDevice('revoked-by-access@box');
    assert.equal((await form(r, '/oauth/revoke', { client_id: CLIENT, token: other.access_token })).statusCode, 200);
    oauthError(await refresh(r, other.refresh_token), 400, 'invalid_grant');
    assert.ok((await auditActions(r)).some((e) => e.action === 'device-revoke'));
  });

  it('lists the devices on "My tokens" and revokes one there', async () => {
    const tokens = await signedInDevice('listed@box');
    const page = await alice.get('/tokens');
    assert.equal(page.statusCode, 200, page.body);
    const row = new RegExp(`<tr data-device-id="(\\d+)"><td>listed@box</td><td>10\\.0\\.0\\.7</td>`).exec(page.body);
    assert.ok(row, page.body);
    // Its access tokens are not listed as tokens of their own.
    assert.doesNotMatch(page.body, /<td>device: listed@box<\/td>/);
    const revoked = await alice.post(`/tokens/devices/${row[1]}/revoke`);
    assert.equal(revoked.statusCode, 303, revoked.body);
    assert.doesNotMatch((await alice.get('/tokens')).body, /listed@box/);
    oauthError(await refresh(r, tokens.refresh_token), 400, 'invalid_grant');
    // Another user's device cannot be revoked from alice's page.
    const carolSession = await signInWithToken(r, await r.userToken('carol'));
    const started = await startDevice(r, { device_name: 'carol@box' });
    await carolSession.post('/device/approve', { user_code: started.user_code });
    (await poll(r, started.device_code)).json();
    const carolPage = await carolSession.get('/tokens');
    const carolRow = /<tr data-device-id="(\d+)"><td>carol@box/.exec(carolPage.body)!;
    assert.equal((await alice.post(`/tokens/devices/${carolRow[1]}/revoke`)).statusCode, 404);
  });

  it('lets an administrator sign out every device of a user, and disable the account, on the users page', async () => {
    const admin = await signInWithToken(r, r.adminToken);
    const first = await signedInDevice('one@box');
    const second = await signedInDevice('two@box');
    const res = await admin.post('/admin/users/signout-devices', { login: 'alice' });
    assert.equal(res.statusCode, 303, res.body);
    assert.match(String(res.headers.location), /Signed\+out\+\d\+device/);
    for (const t of [first, second]) {
      const refused = oauthError(await refresh(r, t.refresh_token), 400, 'invalid_grant');
      assert.match(refused.error_description, /signed out on .*by an administrator/);
    }
    assert.equal((await alice.post('/admin/users/signout-devices', { login: 'alice' })).statusCode, 404, 'not for non-admins');

    const dave = await r.userToken('dave');
    assert.equal((await admin.post('/admin/users/disable', { login: 'dave', state: 'disabled' })).statusCode, 303);
    const refusedToken = await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: dave });
    assert.equal(refusedToken.statusCode, 401);
    assert.match(refusedToken.body, /the account dave is disabled/);
    assert.equal((await admin.post('/admin/users/disable', { login: 'dave', state: 'enabled' })).statusCode, 303);
    assert.equal((await r.request({ method: 'GET', url: '/index/sh/ar/shared-lib', token: dave })).statusCode, 200);
    await r.registry.audit.flush();
    const actions: string[] = (await r.registry.auditLog.query({ limit: 1000, offset: 0 })).events.map((e) => e.action);
    for (const action of ['device-signout-all', 'user-disable', 'user-enable']) assert.ok(actions.includes(action), action);
  });

  it('refuses bad input with the RFC error names and issues nothing', async () => {
    const count = async () => (await r.registry.auditLog.query({ limit: 1000, offset: 0 })).total;
    await r.registry.audit.flush();
    const before = await count();
    const json = await r.request({
      method: 'POST',
      url: '/oauth/device_authorization',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ client_id: CLIENT }),
    });
    assert.match(oauthError(json, 400, 'invalid_request').error_description, /application\/x-www-form-urlencoded/);
    oauthError(await form(r, '/oauth/device_authorization', { client_id: 'someone-else' }), 401, 'invalid_client');
    oauthError(await form(r, '/oauth/device_authorization', { client_id: CLIENT, scope: 'read everything' }), 400, 'invalid_scope');
    oauthError(await form(r, '/oauth/device_authorization', { client_id: CLIENT, device_name: 'x'.repeat(101) }), 400, 'invalid_request');
    oauthError(
      await form(r, '/oauth/device_authorization', { client_id: CLIENT, device_name: 'x'.repeat(20_000) }),
      400,
      'invalid_request',
    );
    const repeated = await r.request({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=refresh_token&client_id=cratekeeper-cli&refresh_token=a&refresh_token=b',
    });
    oauthError(repeated, 400, 'invalid_request');
    const garbage = await r.request({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '%%%\u0000&&==',
    });
    oauthError(garbage, 400, 'invalid_request');
    oauthError(await form(r, '/oauth/token', { client_id: CLIENT, grant_type: 'password' }), 400, 'unsupported_grant_type');
    oauthError(await form(r, '/oauth/token', { client_id: CLIENT, grant_type: DEVICE_GRANT }), 400, 'invalid_request');
    await r.registry.audit.flush();
    assert.equal(await count(), before, 'nothing was issued or recorded');
  });
});

describe('terminal sign-in: rate limit per address', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ 'auth.device_flow.requests_per_minute_per_address': '3' });
  });
  after(() => r?.close());

  it('answers 429 with Retry-After past the limit, for that address only', async () => {
    for (let i = 0; i < 3; i++) await startDevice(r);
    const limited = await form(r, '/oauth/device_authorization', { client_id: CLIENT });
    oauthError(limited, 429, 'slow_down');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    const other = await form(r, '/oauth/device_authorization', { client_id: CLIENT }, '10.0.0.99');
    assert.equal(other.statusCode, 200, other.body);
  });
});

describe('auth.max_token_lifetime', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ 'auth.max_token_lifetime': '30d' });
  });
  after(() => r?.close());

  it('refuses tokens made by hand without expiry or beyond the cap, on the API and the page, naming the cap', async () => {
    const token = await r.userToken('erin');
    const create = (expiresAt?: string) =>
      r.request({
        method: 'POST',
        url: '/api/v1/me/tokens',
        token,
        payload: { name: 'laptop', ...(expiresAt ? { expires_at: expiresAt } : {}) },
      });
    const forever = await create();
    assert.equal(forever.statusCode, 400, forever.body);
    assert.match(forever.body, /caps the tokens people make at 30 days \(auth\.max_token_lifetime\)/);
    assert.equal((await create(new Date(Date.now() + 40 * 86_400_000).toISOString())).statusCode, 400);
    assert.equal((await create(new Date(Date.now() + 20 * 86_400_000).toISOString())).statusCode, 201);

    const page = await signInWithToken(r, token);
    const form = await page.get('/tokens');
    assert.match(form.body, /<option value="cap" selected>30 days \(the longest allowed here\)<\/option>/);
    assert.doesNotMatch(form.body, /<option value="never"/);
    assert.equal((await page.post('/tokens', { name: 'web', scopes: 'read', expiry: 'never' })).statusCode, 400);
    const made = await page.post('/tokens', { name: 'web', scopes: 'read', expiry: 'cap' });
    assert.equal(made.statusCode, 201, made.body);
  });

  it('leaves deliberate service-account tokens (CLI flag) outside the cap', async () => {
    await assert.rejects(r.registry.accounts.createToken('erin', 'cli', { byHand: true }), /auth\.max_token_lifetime/);
    const ci = await r.registry.accounts.createToken('erin', 'ci', {});
    assert.equal(ci.record.expiresAt, null);
  });
});
