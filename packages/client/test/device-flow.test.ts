// The device-flow poller against endpoints that answer as the protocol says: it waits the server's
// interval before each poll, adds 5 seconds after `slow_down`, and stops with a plain message on
// `expired_token` and `access_denied`. Waiting is injected, so the tests see every interval the
// poller chose without spending it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DeviceFlowError, runDeviceFlow, type DeviceFlowIo } from '../src/device-flow.js';
import { discoverAuthorizationServer, type AuthorizationServer } from '../src/oauth-client.js';
import {
  issued,
  oauthError,
  startOAuthTestServer,
  tokenRequests,
  type OAuthAnswer,
  type OAuthTestServer,
} from './support/oauth-test-server.js';

let server: OAuthTestServer;
let metadata: AuthorizationServer;
before(async () => {
  server = await startOAuthTestServer();
  metadata = (await discoverAuthorizationServer(server.indexUrl))!;
});
after(() => server.close());

function scripted(answers: OAuthAnswer[]): void {
  server.seen.length = 0;
  let next = 0;
  server.onToken = () => answers[Math.min(next++, answers.length - 1)]!;
}

function io(): DeviceFlowIo & { lines: string[]; waits: number[] } {
  let clock = 1_000_000;
  const lines: string[] = [];
  const waits: number[] = [];
  return {
    lines,
    waits,
    tell: (line) => lines.push(line),
    sleep: async (seconds) => {
      waits.push(seconds);
      clock += seconds;
    },
    now: () => clock,
  };
}

void test('pending, slow_down, pending, approved: the interval grows by 5 s and stays grown', async () => {
  server.deviceAuthorization = { interval: 2 };
  scripted([
    oauthError('authorization_pending'),
    oauthError('slow_down'),
    oauthError('authorization_pending'),
    issued('ckt_device', 'ckr_device', 3600),
  ]);
  const terminal = io();
  const tokens = await runDeviceFlow(metadata, terminal, {
    deviceName: 'me@laptop',
    scope: 'read',
    retryHint: 'cratekeeper login --registry r',
  });
  assert.equal(tokens.access_token, 'ckt_device');
  assert.equal(tokens.refresh_token, 'ckr_device');
  assert.deepEqual(terminal.waits, [2, 2, 7, 7]);
  const polls = tokenRequests(server);
  assert.equal(polls.length, 4);
  for (const form of polls) {
    assert.deepEqual(form, {
      client_id: 'cratekeeper-cli',
      grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
      device_code: 'dc-1',
    });
  }
  const authorization = server.seen.find((r) => r.path === '/oauth/device_authorization')!;
  assert.deepEqual(authorization.form, { client_id: 'cratekeeper-cli', scope: 'read', device_name: 'me@laptop' });
  assert.match(terminal.lines.join('\n'), new RegExp(`open ${server.url}/device and enter the code WDJB-MJHT`));
  assert.match(terminal.lines.join('\n'), /user_code=WDJB-MJHT/);
});

void test('expired_token ends the wait with the way to start over', async () => {
  server.deviceAuthorization = { interval: 1 };
  scripted([oauthError('authorization_pending'), oauthError('expired_token', 'the code expired 10 minutes after it was issued')]);
  await assert.rejects(runDeviceFlow(metadata, io(), { retryHint: 'cargo login --registry ck' }), (error: Error) => {
    assert.ok(error instanceof DeviceFlowError);
    assert.equal(error.reason, 'expired');
    assert.equal(error.message, 'the code WDJB-MJHT expired before it was approved; run `cargo login --registry ck` again');
    return true;
  });
  assert.equal(tokenRequests(server).length, 2);
});

void test('access_denied ends the wait: the sign-in was refused on the page', async () => {
  server.deviceAuthorization = { interval: 1 };
  scripted([oauthError('access_denied', 'alice refused this device on the approval page')]);
  await assert.rejects(runDeviceFlow(metadata, io(), { retryHint: 'x' }), (error: Error) => {
    assert.ok(error instanceof DeviceFlowError);
    assert.equal(error.reason, 'denied');
    assert.equal(error.message, 'the sign-in was refused on the approval page; run `x` to try again');
    return true;
  });
});

void test('a server that never says expired: the client gives up after the code lifetime', async () => {
  server.deviceAuthorization = { interval: 5, expires_in: 60 };
  scripted([oauthError('authorization_pending')]);
  const terminal = io();
  await assert.rejects(runDeviceFlow(metadata, terminal, { retryHint: 'x' }), /expired before it was approved; run `x` again/);
  assert.equal(terminal.waits.length, 18, 'polls every 5 s for the 60 s lifetime and 30 s of grace');
});

void test('no interval in the answer: 5 s, as RFC 8628 says', async () => {
  server.deviceAuthorization = { interval: undefined };
  scripted([oauthError('authorization_pending'), issued('a', 'b')]);
  const terminal = io();
  await runDeviceFlow(metadata, terminal, { retryHint: 'x' });
  assert.deepEqual(terminal.waits, [5, 5]);
});
