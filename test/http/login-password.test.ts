// Local accounts: `cratekeeper user passwd` (password from stdin), the sign-in form at /me with
// its CSRF token, argon2 verification, refusals and rate limits (429 with Retry-After), which
// do not lock out the others behind one address when someone guesses one user's password.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpRequest } from '../support/http-client.js';
import { HttpBrowser, tokenOnPage } from '../support/oidc-provider.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import type { ProgramResult } from '@cratekeeper/test-support/run-program';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

function passwd(dataDir: string, login: string, input: string): Promise<ProgramResult> {
  return runCli(['user', 'passwd', login, '--data-dir', dataDir], { input });
}

describe('local password sign-in', () => {
  let server: RunningRegistry;

  before(async () => {
    const configFile = join(makeTempDir(), 'cratekeeper.toml');
    writeFileSync(configFile, '[login]\nattempts_per_minute_per_login = 3\nattempts_per_minute_per_address = 12\n');
    server = await startRegistry({ args: ['--config', configFile] });
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  it('explains how to get a token while no local user has a password', async () => {
    const page = await new HttpBrowser().go(`${server.url}/me`);
    assert.equal(page.status, 200);
    assert.match(page.body, /Ask an administrator to create one for you/);
  });

  it('user passwd reads the password from stdin and refuses short ones', async () => {
    assert.equal((await runCli(['user', 'add', 'bob', '--data-dir', server.dataDir])).code, 0);
    const short = await passwd(server.dataDir, 'bob', 'short\n');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /a password needs at least 8 characters/);
    const set = await passwd(server.dataDir, 'bob', 'correct horse battery\n');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /set the password of bob/);
  });

  it('signs bob in with the form and shows a token that works', async () => {
    const browser = new HttpBrowser();
    const form = await browser.go(`${server.url}/me`);
    assert.equal(form.status, 200);
    assert.match(form.body, /<form class="stack" method="post" action="\/me\/login">/);
    const setCookie = form.headers.getSetCookie().join('\n');
    assert.match(setCookie, /ck_login=[^;]+; Path=\/me; Max-Age=600; HttpOnly; SameSite=Lax/);
    assert.doesNotMatch(setCookie, /Secure/); // plain http here; https gets Secure
    const page = await browser.submit(form, { login: 'bob', password: 'correct horse battery' });
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Signed in as <strong id="login">bob<\/strong>/);
    const token = tokenOnPage(page.body);
    const res = await httpRequest(`${server.url}/index/config.json`, { headers: { authorization: token } });
    assert.equal(res.status, 200);
  });

  it("refuses a post without the form's CSRF token", async () => {
    const browser = new HttpBrowser();
    await browser.go(`${server.url}/me`); // has the cookie, but posts a forged form
    const page = await browser.go(`${server.url}/me/login`, {
      method: 'POST',
      form: { login: 'bob', password: 'correct horse battery', csrf: 'forged' },
    });
    assert.equal(page.status, 400);
    assert.match(page.body, /the form expired or did not come from this registry/);
    assert.doesNotMatch(page.body, /ckt_/);
  });

  it('refuses a wrong password, then rate-limits that login with 429 and Retry-After', async () => {
    const browser = new HttpBrowser();
    for (let i = 0; i < 3; i++) {
      const page = await browser.submit(await browser.go(`${server.url}/me`), { login: 'bob', password: `wrong ${i}` });
      assert.equal(page.status, 401);
      assert.match(page.body, /wrong user name or password/);
    }
    const limited = await browser.submit(await browser.go(`${server.url}/me`), { login: 'bob', password: 'correct horse battery' });
    assert.equal(limited.status, 429);
    assert.match(limited.body, /too many failed sign-in attempts for this user; try again in \d+ s/);
    assert.match(limited.headers.get('retry-after') ?? '', /^\d+$/);
  });

  it("someone guessing one user's password does not lock out the others behind the same address", async () => {
    // bob is refused from here now (previous test); the guesser keeps trying, and is refused without counting.
    const guesser = new HttpBrowser();
    for (let i = 0; i < 20; i++) {
      const page = await guesser.submit(await guesser.go(`${server.url}/me`), { login: 'bob', password: `guess ${i}` });
      assert.equal(page.status, 429);
    }
    assert.equal((await runCli(['user', 'add', 'carol', '--data-dir', server.dataDir])).code, 0);
    assert.equal((await passwd(server.dataDir, 'carol', 'carol has a long password\n')).code, 0);
    const colleague = new HttpBrowser();
    const page = await colleague.submit(await colleague.go(`${server.url}/me`), { login: 'carol', password: 'carol has a long password' });
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Signed in as <strong id="login">carol<\/strong>/);
  });

  it('an unknown user gets the same answer as a wrong password; the address limit applies too', async () => {
    const browser = new HttpBrowser();
    const unknown = await browser.submit(await browser.go(`${server.url}/me`), { login: 'nobody', password: 'whatever1' });
    assert.equal(unknown.status, 401);
    assert.match(unknown.body, /wrong user name or password/);
    let status = 0;
    for (let i = 0; i < 12 && status !== 429; i++) {
      status = (await browser.submit(await browser.go(`${server.url}/me`), { login: `user${i}`, password: 'whatever1' })).status;
    }
    assert.equal(status, 429);
  });
});
