// The credential provider for a registry this terminal signed in to, run as cargo runs it (the
// compiled CLI, JSON lines): `get` answers the access token with cache "expires" a minute before
// its expiry and never shows the refresh token; a token close to expiry is refreshed first and the
// rotated tokens are stored; a refused refresh is an error naming the server's reason and the way
// back, and deletes the dead session; `login` without a token runs the device flow; `logout`
// revokes at the server and deletes the session. Two refreshes at once spend the refresh token once.

import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { CLIENT_BIN } from './support/client-bin.js';
import {
  issued,
  oauthError,
  startOAuthTestServer,
  tokenRequests,
  type OAuthAnswer,
  type OAuthTestServer,
} from './support/oauth-test-server.js';
import { FileSessionStore } from '../src/session-file-store.js';
import { sessionToken } from '../src/session-credentials.js';
import type { StoredSession } from '../src/session-store.js';
import { runProgram } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

let server: OAuthTestServer;
before(async () => {
  server = await startOAuthTestServer();
});
after(() => server.close());
beforeEach(() => {
  server.seen.length = 0;
  server.deviceAuthorization = {};
  server.onToken = () => issued('ckt_issued', 'ckr_issued');
});

const now = () => Math.floor(Date.now() / 1000);

async function signedIn(session: StoredSession): Promise<{ config: string; store: FileSessionStore }> {
  const config = makeTempDir();
  const store = new FileSessionStore(join(config, 'cratekeeper'));
  await store.write(server.indexUrl, session);
  return { config, store };
}

async function provider(config: string, requests: object[]): Promise<{ code: number | null; lines: unknown[]; stderr: string }> {
  const input = requests.map((r) => JSON.stringify(r)).join('\n') + '\n';
  const { code, stdout, stderr } = await runProgram(process.execPath, [CLIENT_BIN, 'credential', '--cargo-plugin'], {
    env: { PATH: process.env.PATH, HOME: makeTempDir(), XDG_CONFIG_HOME: config },
    input,
  });
  return {
    code,
    stderr,
    lines: stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
  };
}

const registry = () => ({ 'index-url': `sparse+${server.indexUrl}`, name: 'ck' });
const get = (operation = 'read') => ({ v: 1, registry: registry(), kind: 'get', operation, args: ['credential'] });

void test('get: the stored access token, cached by cargo until a minute before it expires; no refresh needed', async () => {
  const expiresAt = now() + 8 * 3600;
  const { config } = await signedIn({ access_token: 'ckt_stored', refresh_token: 'ckr_secret', expires_at: expiresAt, issued_at: now() });
  const run = await provider(config, [get('read'), get('publish')]);
  assert.equal(run.code, 0, run.stderr);
  const ok = { Ok: { kind: 'get', token: 'ckt_stored', cache: 'expires', expiration: expiresAt - 60, operation_independent: true } };
  assert.deepEqual(run.lines, [{ v: [1] }, ok, ok]);
  assert.deepEqual(tokenRequests(server), []);
  assert.doesNotMatch(JSON.stringify(run.lines), /ckr_secret/);
});

void test('get: a token that expires within 5 minutes is refreshed first; the rotated tokens are stored', async () => {
  const { config, store } = await signedIn({
    access_token: 'ckt_old',
    refresh_token: 'ckr_old',
    expires_at: now() + 120,
    issued_at: now() - 8 * 3600,
  });
  server.onToken = () => issued('ckt_new', 'ckr_new', 8 * 3600);
  const run = await provider(config, [get()]);
  assert.equal(run.code, 0, run.stderr);
  const answer = (run.lines[1] as { Ok: { token: string; expiration: number; cache: string } }).Ok;
  assert.equal(answer.token, 'ckt_new');
  assert.equal(answer.cache, 'expires');
  assert.deepEqual(tokenRequests(server), [{ client_id: 'cratekeeper-cli', grant_type: 'refresh_token', refresh_token: 'ckr_old' }]);
  const stored = (await store.read(server.indexUrl))!;
  assert.equal(stored.access_token, 'ckt_new');
  assert.equal(stored.refresh_token, 'ckr_new');
  assert.equal(answer.expiration, stored.expires_at - 60);
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  assert.doesNotMatch(JSON.stringify(run.lines), /ckr_/);
});

void test("get: a refused refresh is an error with the server's reason and `cargo login --registry ck`; the session is gone", async () => {
  const { config, store } = await signedIn({
    access_token: 'ckt_old',
    refresh_token: 'ckr_old',
    expires_at: now() - 10,
    issued_at: now() - 3600,
  });
  server.onToken = () => oauthError('invalid_grant', 'the identity provider no longer puts alice in an authorized group');
  const run = await provider(config, [get(), get()]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.lines[1], {
    Err: {
      kind: 'other',
      message:
        'the registry refused to renew your session: the identity provider no longer puts alice in an authorized group. ' +
        'Sign in again with `cargo login --registry ck`',
    },
  });
  // The dead session is gone: cargo now hears not-found (and says to run cargo login), and
  // `cargo login` (which asks for a token first) is not blocked by the same error.
  assert.deepEqual(run.lines[2], { Err: { kind: 'not-found' } });
  assert.equal(await store.read(server.indexUrl), undefined);
  assert.equal(tokenRequests(server).length, 1);
});

void test('get: a registry that cannot be reached keeps the session and uses the token while it is valid', async () => {
  const { config, store } = await signedIn({
    access_token: 'ckt_still_good',
    refresh_token: 'ckr_old',
    expires_at: now() + 100,
    issued_at: now() - 3600,
  });
  server.onToken = () => ({ status: 503, body: { error: 'temporarily_unavailable' } });
  const run = await provider(config, [get()]);
  assert.equal((run.lines[1] as { Ok: { token: string } }).Ok.token, 'ckt_still_good');
  assert.equal((await store.read(server.indexUrl))!.refresh_token, 'ckr_old');
});

void test('login without a token: the device flow on stderr, the session stored; with a token: the .netrc as before', async () => {
  const config = makeTempDir();
  let polls = 0;
  server.onToken = (form) => {
    assert.equal(form.device_code, 'dc-1');
    return ++polls < 2 ? oauthError('authorization_pending') : issued('ckt_device', 'ckr_device', 3600);
  };
  const run = await provider(config, [
    { v: 1, registry: registry(), kind: 'login', 'login-url': `${server.url}/me`, args: ['credential'] },
    get(),
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.lines[1], { Ok: { kind: 'login' } });
  assert.match(run.stderr, new RegExp(`open ${server.url}/device and enter the code WDJB-MJHT`));
  assert.match(run.stderr, /Signed in to http:\/\/127\.0\.0\.1:\d+; the session is kept in .*sessions\.json/);
  assert.equal((run.lines[2] as { Ok: { token: string } }).Ok.token, 'ckt_device');
  const store = new FileSessionStore(join(config, 'cratekeeper'));
  assert.equal((await store.read(server.indexUrl))!.refresh_token, 'ckr_device');
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  assert.equal(statSync(join(config, 'cratekeeper')).mode & 0o777, 0o700);
  const authorization = server.seen.find((r) => r.path === '/oauth/device_authorization')!;
  assert.match(authorization.form.device_name!, /^.+@.+$/);

  // A pasted token still goes to the .netrc.
  const netrc = join(makeTempDir(), 'netrc');
  const pasted = await provider(config, [
    { v: 1, registry: registry(), kind: 'login', token: 'ckt_pasted', args: ['credential', '--netrc', netrc] },
  ]);
  assert.deepEqual(pasted.lines[1], { Ok: { kind: 'login' } });
  assert.equal(readFileSync(netrc, 'utf8'), 'machine 127.0.0.1 login cargo password ckt_pasted\n');
});

void test('login: a refused approval fails with the reason', async () => {
  server.onToken = () => oauthError('access_denied', 'bob refused this device');
  const run = await provider(makeTempDir(), [{ v: 1, registry: registry(), kind: 'login', args: ['credential'] }]);
  assert.deepEqual(run.lines[1], {
    Err: { kind: 'other', message: 'the sign-in was refused on the approval page; run `cargo login --registry ck` to try again' },
  });
});

void test('logout: revoked at the server with the refresh token, deleted here', async () => {
  const { config, store } = await signedIn({ access_token: 'ckt_a', refresh_token: 'ckr_a', expires_at: now() + 3600, issued_at: now() });
  const run = await provider(config, [
    { v: 1, registry: registry(), kind: 'logout', args: ['credential'] },
    { v: 1, registry: registry(), kind: 'logout', args: ['credential'] },
  ]);
  assert.deepEqual(run.lines.slice(1), [{ Ok: { kind: 'logout' } }, { Err: { kind: 'not-found' } }]);
  assert.deepEqual(
    server.seen.filter((r) => r.path === '/oauth/revoke').map((r) => r.form),
    [{ client_id: 'cratekeeper-cli', token: 'ckr_a' }],
  );
  assert.equal(await store.read(server.indexUrl), undefined);
});

void test('two refreshes at once: one spends the refresh token, the other waits and gets the new token', async () => {
  const { config, store } = await signedIn({
    access_token: 'ckt_old',
    refresh_token: 'ckr_once',
    expires_at: now() + 30,
    issued_at: now() - 3600,
  });
  let releaseRefresh!: () => void;
  const refreshHeld = new Promise<void>((resolve) => (releaseRefresh = resolve));
  let firstRefreshSeen!: () => void;
  const firstRefresh = new Promise<void>((resolve) => (firstRefreshSeen = resolve));
  // The second caller either waits for the lock (right) or reaches the server with the same
  // refresh token (the bug this guards against, which the server treats as a replay).
  let secondMoved!: () => void;
  const secondWaitsOrRefreshes = new Promise<void>((resolve) => (secondMoved = resolve));
  let refreshes = 0;
  server.onToken = async (): Promise<OAuthAnswer> => {
    if (++refreshes > 1) {
      secondMoved();
      return oauthError('invalid_grant', 'refresh token replayed; this device was signed out');
    }
    firstRefreshSeen();
    await refreshHeld;
    return issued('ckt_rotated', 'ckr_rotated');
  };
  const context = (onContended?: () => void) => ({
    store: new FileSessionStore(join(config, 'cratekeeper')),
    lockPath: join(config, 'cratekeeper', 'sessions.lock'),
    now,
    ...(onContended ? { lock: { onContended } } : {}),
  });
  const first = sessionToken(server.indexUrl, context(), 'cargo login --registry ck');
  await firstRefresh;
  const second = sessionToken(
    server.indexUrl,
    context(() => secondMoved()),
    'cargo login --registry ck',
  );
  await secondWaitsOrRefreshes;
  releaseRefresh();
  const [a, b] = await Promise.allSettled([first, second]);
  assert.equal(tokenRequests(server).length, 1, 'the refresh token was spent once');
  assert.deepEqual(
    [a, b].map((r) => (r.status === 'fulfilled' ? r.value!.token : String(r.reason))),
    ['ckt_rotated', 'ckt_rotated'],
  );
  assert.equal((await store.read(server.indexUrl))!.refresh_token, 'ckr_rotated');
});
