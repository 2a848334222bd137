// The web interface in a real browser (Debian's chromium) against a real `cratekeeper serve`, a
// real OpenID provider and the real cargo: a developer signs in with OpenID, finds a crate, reads
// its README, creates a scoped token that cargo then uses, revokes it and sees cargo refused; a
// local user signs in with a password; an admin finds that download in the audit log.
// Screenshots of the main pages go to $CRATEKEEPER_SCREENSHOTS when set (docs/screenshots is
// refreshed with `CRATEKEEPER_SCREENSHOTS=docs/screenshots`), else to a temporary folder.

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../support/browser.js';
import { CargoSandbox } from '../support/cargo.js';
import { startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startRegistryWithOidc } from '../support/oidc-registry.js';
import { runCli, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const README = `# Widget

Widgets for **everyone**. Read [the guide](docs/guide.md).

<script>window.pwned = 'script'</script>

<img src="nowhere.png" onerror="window.pwned = 'onerror'">

<a href="javascript:window.pwned='link'">a javascript: link</a>
`;

const SCREENSHOTS = resolve(process.env.CRATEKEEPER_SCREENSHOTS ?? makeTempDir('cratekeeper-screenshots-'));

describe('the web interface in a real browser', () => {
  let provider: TestOidcProvider;
  let server: RunningRegistry;
  let browser: Browser;
  let carol: BrowserContext;
  let carolPage: Page;
  const publisher = new CargoSandbox();
  const dialogs: string[] = [];
  let scopedToken = '';
  let scopedTokenId = '';

  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    return page;
  }

  /** Basic accessibility of our own markup: language, one h1, labelled controls, named buttons, table headers. */
  async function assertAccessible(page: Page): Promise<void> {
    const problems = await page.evaluate(() => {
      const found: string[] = [];
      if (document.documentElement.lang !== 'en') found.push('no lang');
      const headings = document.querySelectorAll('h1:not(#readme h1)').length; // a README may have its own
      if (headings !== 1) found.push(`${headings} h1`);
      for (const control of document.querySelectorAll<HTMLInputElement>('input:not([type=hidden]), select, textarea')) {
        if ((control.labels?.length ?? 0) === 0 && !control.getAttribute('aria-label')) found.push(`unlabelled ${control.outerHTML}`);
      }
      for (const button of document.querySelectorAll('button')) {
        if (!(button.textContent ?? '').trim() && !button.getAttribute('aria-label')) found.push(`unnamed ${button.outerHTML}`);
      }
      for (const table of document.querySelectorAll('table')) if (!table.querySelector('th')) found.push('table without headers');
      for (const image of document.querySelectorAll('img:not(#readme img)'))
        if (!image.hasAttribute('alt')) found.push(`no alt ${image.outerHTML}`);
      return found;
    });
    assert.deepEqual(problems, [], page.url());
  }

  async function screenshot(page: Page, name: string, mask: string[] = []): Promise<void> {
    await assertAccessible(page);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, mask: mask.map((s) => page.locator(s)) });
  }

  before(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    provider = await startOidcProvider({ 'gitlab-3001': { preferred_username: 'carol', groups: ['devs'] } });
    server = await startRegistryWithOidc(provider, {
      oidc: ['authorized_groups = ["devs"]'],
      config: ['[login]', 'registry_name = "ck"', '', '[[access.rules]]', 'crates = ["secret"]', 'read = ["alice"]'],
      env: { CRATEKEEPER_AUDIT__FLUSH_INTERVAL_MS: '100' },
    });
    const dir = ['--data-dir', server.dataDir];
    assert.equal((await runCli(['user', 'add', 'alice', ...dir])).code, 0);
    assert.equal((await runCli(['user', 'passwd', 'alice', ...dir], { input: 'correct horse battery staple\n' })).code, 0);
    const aliceToken = (await runCli(['token', 'create', '--user', 'alice', '--name', 'publishing', ...dir])).stdout.trim();

    // alice publishes with cargo: `widget` with a README (packaged into the .crate), and `secret`.
    publisher.configure(`${server.url}/index/`);
    assert.equal((await publisher.run(['login', '--registry', 'ck'], { input: `${aliceToken}\n` })).code, 0);
    const widget = publisher.createPackage({
      name: 'widget',
      version: '1.2.0',
      packageLines: ['readme = "README.md"', 'repository = "https://github.com/team/widget"'],
    });
    writeFileSync(join(widget, 'README.md'), README);
    for (const dir of [widget, publisher.createPackage({ name: 'secret', version: '0.1.0' })]) {
      const published = await publisher.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: dir });
      assert.equal(published.code, 0, published.stderr);
    }

    browser = await launchChromium();
    carol = await browser.newContext();
    // The provider's development pages import a web font; the test has no internet.
    await carol.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    carolPage = await newPage(carol);
  });

  after(async () => {
    await browser?.close();
    assert.equal(await server?.stop(), 0);
    await provider?.stop();
  });

  it('carol signs in with OpenID Connect and comes back to the page she asked for', async () => {
    const page = carolPage;
    await page.goto(`${server.url}/search?q=widget`);
    assert.equal(new URL(page.url()).pathname, '/sign-in');
    await screenshot(page, 'sign-in');
    await page.click('#oidc-sign-in');
    await page.fill('input[name="login"]', 'gitlab-3001');
    await page.fill('input[name="password"]', 'any password'); // the development provider takes any
    await page.click('button[type="submit"]');
    await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 15_000 });
    await Promise.all([page.waitForURL(`${server.url}/search?q=widget`), page.click('button[type="submit"]')]);
    assert.equal(await page.textContent('#viewer'), 'carol');
    const session = (await carol.cookies(server.url)).find((c) => c.name === 'ck_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
  });

  it('she finds widget, opens it and reads its README, and nothing in it runs', async () => {
    const page = carolPage;
    await page.goto(`${server.url}/`);
    await screenshot(page, 'home');
    // By keyboard: the skip link comes first and leads to the content, whose first field is the search.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'home-search');
    await page.keyboard.type('widg');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#results');
    assert.match((await page.textContent('#result-count'))!, /1–1 of 1 crate matching “widg”/);
    await screenshot(page, 'search');
    await page.click('#results a[href="/crates/widget"]');
    await page.waitForSelector('#readme');
    assert.equal(await page.textContent('#readme h1'), 'Widget');
    assert.equal(await page.getAttribute('#readme a[href*="guide"]', 'href'), 'https://github.com/team/widget/blob/HEAD/docs/guide.md');
    assert.equal(await page.textContent('#cargo-add'), 'cargo add widget@1.2.0 --registry ck');
    // The copy button appears only with the script, and copies the line.
    await carol.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await page.click('button[data-copy]');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'cargo add widget@1.2.0 --registry ck');
    await page.click('#readme >> text=a javascript: link').catch(() => undefined);
    await page.waitForTimeout(300);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: string }).pwned), undefined);
    assert.deepEqual(dialogs, []);
  });

  it('secret, which she may not read, is nowhere for her', async () => {
    const page = carolPage;
    await page.goto(`${server.url}/search?q=secret`);
    assert.match((await page.textContent('#result-count'))!, /No crates match/);
    const response = await page.goto(`${server.url}/crates/secret`);
    assert.equal(response?.status(), 404);
  });

  it('she creates a scoped token, cargo uses it, she revokes it and cargo is refused', async () => {
    const page = carolPage;
    await page.goto(`${server.url}/tokens`);
    await page.fill('#token-name', 'laptop, read only');
    for (const scope of ['publish-new', 'publish-update', 'yank', 'change-owners'])
      await page.uncheck(`input[name="scopes"][value="${scope}"]`);
    await page.fill('#token-crates', 'widget');
    await page.selectOption('#token-expiry', '7');
    await page.click('#create-token button[type="submit"]');
    scopedToken = (await page.textContent('#new-token'))!.trim();
    assert.match(scopedToken, /^ckt_/);
    await screenshot(page, 'new-token', ['#new-token']);

    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    assert.equal((await cargo.run(['login', '--registry', 'ck'], { input: `${scopedToken}\n` })).code, 0);
    const app = cargo.createApp('uses-widget', ['widget = { version = "1.2", registry = "ck" }'], 'fn main() {}\n');
    const fetched = await cargo.run(['fetch'], { cwd: app });
    assert.equal(fetched.code, 0, fetched.stderr);
    // The download shows on the crate page once the counts are written (in batches, within seconds).
    for (let attempt = 0; ; attempt++) {
      await page.goto(`${server.url}/crates/widget`);
      if ((await page.textContent('#downloads-total')) === '1 in all') break;
      assert.ok(attempt < 40, 'the download was counted on the crate page');
      await page.waitForTimeout(250);
    }
    await screenshot(page, 'crate');

    await page.goto(`${server.url}/tokens`);
    const row = page.locator('#tokens tr', { hasText: 'laptop, read only' });
    assert.match((await row.textContent())!, /read\s*widget/);
    scopedTokenId = (await row.getAttribute('data-token-id'))!;
    await screenshot(page, 'tokens');
    await row.locator('button', { hasText: 'Revoke' }).click();
    await page.waitForSelector('#notice');
    assert.equal(await page.locator('#tokens tr', { hasText: 'laptop, read only' }).count(), 0);

    const refused = await cargo.run(['generate-lockfile'], { cwd: app });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /token rejected: the token is unknown or revoked/);
  });

  it('alice signs in with her local password and sees secret', async () => {
    const context = await browser.newContext();
    const page = await newPage(context);
    await page.goto(`${server.url}/search?q=secret`);
    await page.fill('#login', 'alice');
    await page.fill('#password', 'correct horse battery staple');
    await Promise.all([page.waitForURL(`${server.url}/search?q=secret`), page.click('form[action="/me/login"] button')]);
    assert.equal(await page.textContent('#viewer'), 'alice');
    assert.equal(await page.locator('#results a[href="/crates/secret"]').count(), 1);
    await page.click('form[action="/sign-out"] button');
    await page.waitForURL(/\/sign-in/);
    await context.close();
  });

  it('the admin finds that download in the audit log, with the user and the token', async () => {
    const context = await browser.newContext();
    const page = await newPage(context);
    await page.goto(`${server.url}/admin/audit`);
    await page.fill('#sign-in-token', server.adminToken!);
    await Promise.all([page.waitForURL(`${server.url}/admin/audit`), page.click('form[action="/me/token-sign-in"] button')]);
    await page.fill('input[name="crate"]', 'widget');
    await page.selectOption('select[name="action"]', 'download');
    await page.click('#audit-filters button[type="submit"]');
    await page.waitForURL(/action=download/);
    const rows = page.locator('tbody tr', { hasText: 'carol' });
    assert.equal(await rows.count(), 1);
    const text = (await rows.first().textContent())!;
    assert.match(text, /download/);
    assert.match(text, /1\.2\.0/);
    assert.match(text, new RegExp(`\\b${scopedTokenId}\\b`));
    assert.doesNotMatch(await page.content(), new RegExp(scopedToken));
    await screenshot(page, 'admin-audit');
    await page.goto(`${server.url}/admin/users`);
    await screenshot(page, 'admin-users');
    await context.close();
  });
});
