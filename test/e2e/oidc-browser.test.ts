// The sign-in in a real browser: chromium goes to the registry's /me, is sent to the OpenID
// provider, fills in its login form, confirms consent, comes back with the registry's cookie and
// shows the token page; the token it shows works against the index.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { httpRequest } from '../support/http-client.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startRegistryWithOidc } from '../support/oidc-registry.js';
import type { RunningRegistry } from '../support/registry-server.js';

describe('OIDC sign-in in a real browser', () => {
  let provider: TestOidcProvider;
  let server: RunningRegistry;
  let browser: Browser;

  before(async () => {
    provider = await startOidcProvider({ 'gitlab-2001': { preferred_username: 'carol', groups: ['devs'] } });
    server = await startRegistryWithOidc(provider, { oidc: ['authorized_groups = ["devs"]'] });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    assert.equal(await server?.stop(), 0);
    await provider?.stop();
  });

  it("goes through the provider's login and consent pages and ends on the token page", async () => {
    const context = await browser.newContext();
    // The provider's development pages import a web font; the test has no internet.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    const page = await context.newPage();
    await page.goto(`${server.url}/me`, { waitUntil: 'domcontentloaded' });
    assert.ok(page.url().startsWith(`${provider.issuer}/interaction/`), page.url());
    await page.fill('input[name="login"]', 'gitlab-2001');
    await page.fill('input[name="password"]', 'any password'); // the development provider takes any
    await page.click('button[type="submit"]');
    await page
      .waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 15_000 })
      .catch(async (error: Error) => {
        throw new Error(
          `no consent page at ${page.url()}: ${error.message}\n${(await page.content()).replace(/<style>[\s\S]*<\/style>/, '').slice(0, 3000)}`,
        );
      });
    await Promise.all([page.waitForURL(`${server.url}/me/callback**`), page.click('button[type="submit"]')]);
    assert.equal(await page.textContent('h1'), 'Your cargo token');
    assert.equal(await page.textContent('#login'), 'carol');
    const token = (await page.textContent('#token'))!.trim();
    assert.match(token, /^ckt_/);
    const cookies = await context.cookies(server.url);
    assert.equal(
      cookies.find((c) => c.name === 'ck_login'),
      undefined,
      'the sign-in cookie outlived the sign-in',
    );
    await context.close();

    const res = await httpRequest(`${server.url}/index/config.json`, { headers: { authorization: token } });
    assert.equal(res.status, 200);
  });
});
