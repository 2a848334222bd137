// Terminal sign-in with a real OpenID provider (oidc-provider) and the real server: the sign-in
// that approves a device asks the provider for a refresh token, and each refresh of the device asks
// the provider again. While the provider puts the person in an authorized group, refreshes work;
// once it no longer does, the refresh is refused with a message naming why, and the device is
// signed out. A person already signed in to the web pages through the provider is sent through it
// again by /device (so that the device gets a grant too), and cannot approve without that. A
// provider that lists offline_access but gives the registry no refresh token refuses such a
// sign-in (rather than looping through /device); one without offline_access at all keeps approving.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/eventually.js';
import { HttpBrowser, signInWithHttp, startOidcProvider, type TestAccount, type TestOidcProvider } from '../support/oidc-provider.js';
import { startRegistryWithOidc } from '../support/oidc-registry.js';
import type { RunningRegistry } from '../support/registry-server.js';

const CLIENT = 'cratekeeper-cli';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

async function post(url: string, fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The approved device's tokens from the token endpoint, retried until the approval has landed. */
function tokensOnceApproved(base: string, deviceCode: string): Promise<Record<string, unknown>> {
  return eventually(
    async () => {
      const res = await post(`${base}/oauth/token`, { client_id: CLIENT, grant_type: DEVICE_GRANT, device_code: deviceCode });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    30_000,
    500,
  );
}

describe('terminal sign-in: refreshes ask the OpenID provider again', () => {
  let provider: TestOidcProvider;
  let server: RunningRegistry;
  const accounts: Record<string, TestAccount> = {
    'acct-7': { preferred_username: 'dana', groups: ['devs'] },
    'acct-8': { preferred_username: 'erin', groups: ['devs'] },
  };

  before(async () => {
    provider = await startOidcProvider(accounts);
    server = await startRegistryWithOidc(provider, {
      oidc: ['authorized_groups = ["devs"]'],
      config: ['[auth.device_flow]', 'poll_interval = "1s"'],
    });
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    await provider?.stop();
  });

  it('refreshes while the provider authorizes dana, and refuses once it no longer does', async () => {
    const started = await post(`${server.url}/oauth/device_authorization`, { client_id: CLIENT, device_name: 'dana@laptop' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const complete = started.body.verification_uri_complete as string;
    assert.ok(complete.startsWith(server.url));

    // Dana follows the link, signs in at the provider (which asks consent for offline access), and approves.
    const browser = new HttpBrowser();
    const signIn = await browser.go(complete);
    const start = /id="oidc-sign-in" href="([^"]+)"/.exec(signIn.body)?.[1]?.replace(/&#38;/g, '&');
    assert.ok(start, signIn.body);
    const page = await signInWithHttp(server.url, 'acct-7', start, browser);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /<td id="device-name">dana@laptop<\/td>/);
    const csrf = /action="\/device\/approve"><input type="hidden" name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, page.body);
    const approved = await browser.go(`${server.url}/device/approve`, {
      method: 'POST',
      form: { csrf, user_code: started.body.user_code as string },
    });
    assert.equal(approved.status, 200, approved.body);

    const tokens = await tokensOnceApproved(server.url, started.body.device_code as string);

    const renewed = await post(`${server.url}/oauth/token`, {
      client_id: CLIENT,
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
    });
    assert.equal(renewed.status, 200, JSON.stringify(renewed.body));

    // The provider moves dana out of the authorized group.
    accounts['acct-7']!.groups = ['contractors'];
    const refused = await post(`${server.url}/oauth/token`, {
      client_id: CLIENT,
      grant_type: 'refresh_token',
      refresh_token: renewed.body.refresh_token as string,
    });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid_grant');
    assert.match(refused.body.error_description as string, /the identity provider no longer puts dana in an authorized group/);
    assert.match(refused.body.error_description as string, /contractors/);

    // The device is signed out: its access token no longer reads the index.
    const index = await fetch(`${server.url}/index/config.json`, { headers: { authorization: renewed.body.access_token as string } });
    assert.equal(index.status, 401);
  });
  it('sends a person signed in earlier for another page through the provider again, and refuses approval without that', async () => {
    const started = await post(`${server.url}/oauth/device_authorization`, { client_id: CLIENT, device_name: 'erin@desk' });
    assert.equal(started.status, 200, JSON.stringify(started.body));
    const userCode = started.body.user_code as string;

    // Erin signed in through the provider to browse, before any device asked: no provider grant.
    const browser = new HttpBrowser();
    const home = await signInWithHttp(server.url, 'acct-8', '/me/oidc?purpose=web&next=/', browser);
    assert.equal(home.status, 200, home.body);
    const sessionCsrf = /action="\/sign-out"><input type="hidden" name="csrf" value="([^"]+)"/.exec(home.body)?.[1];
    assert.ok(sessionCsrf, home.body);

    // Approving straight away is refused, with a way through the provider back to this code.
    const refusedApproval = await browser.go(`${server.url}/device/approve`, {
      method: 'POST',
      form: { csrf: sessionCsrf, user_code: userCode },
    });
    assert.equal(refusedApproval.status, 403, refusedApproval.body);
    assert.match(refusedApproval.body, /sign in through the identity provider again/);
    const again = /id="provider-sign-in" href="([^"]+)"/.exec(refusedApproval.body)?.[1]?.replace(/&#38;/g, '&');
    assert.equal(again, `/me/oidc?${new URLSearchParams({ purpose: 'web', next: `/device?user_code=${userCode}` }).toString()}`);

    // Opening /device sends the browser to the provider sign-in that comes back with a grant.
    const complete = started.body.verification_uri_complete as string;
    const detour = await fetch(complete, { headers: { cookie: browser.jar.header(new URL(complete)) }, redirect: 'manual' });
    assert.equal(detour.status, 303);
    const location = detour.headers.get('location') ?? '';
    assert.equal(
      location,
      `/me/oidc?${new URLSearchParams({ purpose: 'web', next: new URL(complete).pathname + new URL(complete).search }).toString()}`,
    );
    const page = await signInWithHttp(server.url, 'acct-8', location, browser);
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /<td id="device-name">erin@desk<\/td>/);
    const csrf = /action="\/device\/approve"><input type="hidden" name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, page.body);
    // Still pending after the refusal above: this approval is the one that counts.
    const approved = await browser.go(`${server.url}/device/approve`, { method: 'POST', form: { csrf, user_code: userCode } });
    assert.equal(approved.status, 200, approved.body);
    assert.match(approved.body, /erin@desk<\/strong> is signed in/);

    const tokens = await tokensOnceApproved(server.url, started.body.device_code as string);

    // The provider drops erin from the authorized group: the device's refresh asks it, and is refused.
    accounts['acct-8']!.groups = ['contractors'];
    const refused = await post(`${server.url}/oauth/token`, {
      client_id: CLIENT,
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token as string,
    });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.error, 'invalid_grant');
    assert.match(refused.body.error_description as string, /the identity provider no longer puts erin in an authorized group/);
  });
});

describe('terminal sign-in: providers that give no refresh tokens', () => {
  const accounts: Record<string, TestAccount> = { 'acct-9': { preferred_username: 'finn', groups: ['devs'] } };
  const running: { provider: TestOidcProvider; server: RunningRegistry }[] = [];

  async function start(options: { offlineAccess?: boolean; refreshTokens?: boolean }): Promise<RunningRegistry> {
    const provider = await startOidcProvider(accounts, options);
    const server = await startRegistryWithOidc(provider, { oidc: ['authorized_groups = ["devs"]'] });
    running.push({ provider, server });
    return server;
  }
  after(async () => {
    for (const { provider, server } of running) {
      assert.equal(await server.stop(), 0);
      await provider.stop();
    }
  });

  it('refuses a sign-in for /device that brings no refresh token although the provider lists offline_access', async () => {
    const server = await start({ refreshTokens: false });
    const started = await post(`${server.url}/oauth/device_authorization`, { client_id: CLIENT, device_name: 'finn@box' });
    const browser = new HttpBrowser();
    const signIn = await browser.go(started.body.verification_uri_complete as string);
    const providerStart = /id="oidc-sign-in" href="([^"]+)"/.exec(signIn.body)?.[1]?.replace(/&#38;/g, '&');
    assert.ok(providerStart, signIn.body);
    const page = await signInWithHttp(server.url, 'acct-9', providerStart, browser);
    assert.equal(page.status, 403, page.body);
    assert.match(page.body, /gave no refresh token for this sign-in/);
  });

  it('approves for a person signed in earlier when the provider offers no offline_access at all', async () => {
    const server = await start({ offlineAccess: false });
    const started = await post(`${server.url}/oauth/device_authorization`, { client_id: CLIENT, device_name: 'finn@box' });
    const browser = new HttpBrowser();
    const home = await signInWithHttp(server.url, 'acct-9', '/me/oidc?purpose=web&next=/', browser);
    assert.equal(home.status, 200, home.body);
    const page = await browser.go(started.body.verification_uri_complete as string);
    assert.equal(page.url, started.body.verification_uri_complete, 'no detour through the provider');
    const csrf = /action="\/device\/approve"><input type="hidden" name="csrf" value="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(csrf, page.body);
    const approved = await browser.go(`${server.url}/device/approve`, {
      method: 'POST',
      form: { csrf, user_code: started.body.user_code as string },
    });
    assert.equal(approved.status, 200, approved.body);
  });
});
