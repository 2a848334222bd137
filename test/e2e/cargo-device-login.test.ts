// Terminal sign-in end to end (issue 17): the real cargo with cratekeeper's credential provider,
// the real `cratekeeper serve`, a real OpenID provider and chromium. `cargo login --registry ck`
// starts the device flow (the code is read from its stderr), chromium signs in at the provider and
// approves, and cargo builds against a private crate. The access token lives 30 s: once the server
// refuses it, cargo keeps working through a silent refresh. A refused approval fails `cargo login`;
// `cargo logout` revokes at the server. A client that polls too fast is told to slow down. When the
// provider drops the user from the authorized group, the next refresh fails and cargo shows the
// server's reason. On a second registry, a code nobody approves expires.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { writeCliWrapper } from '../client/helpers.js';
import { launchChromium } from '../support/browser.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { eventually } from '../support/eventually.js';
import { httpRequest } from '../support/http-client.js';
import { startOidcProvider, type TestAccount, type TestOidcProvider } from '../support/oidc-provider.js';
import { startRegistryWithOidc } from '../support/oidc-registry.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const SUB = 'gitlab-4001';
const MAIN = 'fn main() { println!("{}", private_dep::name()); }\n';
const DEPENDENCY = ['private_dep = { version = "0.1", registry = "ck" }'];

interface RunningCargo {
  stderr(): string;
  done: Promise<CargoResult>;
}

/** Starts cargo without waiting for it, so that the test can read what it prints meanwhile. */
function startCargo(sandbox: CargoSandbox, args: string[]): RunningCargo {
  const child = spawn('cargo', args, { cwd: sandbox.root, env: sandbox.env(), stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(''); // no token on stdin: the provider runs the device flow
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return {
    stderr: () => stderr,
    done: new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    }),
  };
}

/** The approval link `cargo login` printed. */
async function approvalLink(login: RunningCargo): Promise<string> {
  return eventually(() => {
    const link = /\(or open (\S+)\)/.exec(login.stderr())?.[1];
    if (link === undefined) throw new Error(`no approval link yet on cargo's stderr:\n${login.stderr()}`);
    return link;
  }, 60_000);
}

function writeConfig(sandbox: CargoSandbox, registry: RunningRegistry): void {
  const cli = writeCliWrapper(sandbox.root);
  sandbox.configure(`${registry.url}/index/`);
  const config = join(sandbox.cargoHome, 'config.toml');
  writeFileSyncReplacing(config, 'credential-provider = "cargo:token"', `credential-provider = ${JSON.stringify([cli, 'credential'])}`);
}

function writeFileSyncReplacing(path: string, from: string, to: string): void {
  const text = readFileSync(path, 'utf8');
  assert.ok(text.includes(from));
  writeFileSync(path, text.replace(from, to));
}

interface Session {
  access_token: string;
  refresh_token: string;
  expires_at: number;
}

function storedSession(sandbox: CargoSandbox, registry: RunningRegistry): Session | undefined {
  const file = join(sandbox.home, '.config', 'cratekeeper', 'sessions.json');
  const sessions = (JSON.parse(readFileSync(file, 'utf8')) as { sessions: Record<string, Session> }).sessions;
  return sessions[`${registry.url}/index/`];
}

async function statusWith(registry: RunningRegistry, token: string): Promise<number> {
  return (await httpRequest(`${registry.url}/index/config.json`, { headers: { authorization: token } })).status;
}

describe('cargo login with the device flow, silent refresh, and the provider staying in charge', () => {
  const accounts: Record<string, TestAccount> = { [SUB]: { preferred_username: 'dana', groups: ['devs'] } };
  let provider: TestOidcProvider;
  let registry: RunningRegistry;
  let browser: Browser;
  const sandbox = new CargoSandbox();

  before(async () => {
    provider = await startOidcProvider(accounts);
    registry = await startRegistryWithOidc(provider, {
      oidc: ['authorized_groups = ["devs"]'],
      config: ['[auth.device_flow]', 'access_token_lifetime = "30s"', 'poll_interval = "3s"'],
    });
    // The private crate, published by the admin with the first token.
    const publisher = new CargoSandbox();
    publisher.configure(`${registry.url}/index/`);
    const lib = publisher.createPackage({ name: 'private_dep', version: '0.1.0' });
    const published = await publisher.run(['publish', '--registry', 'ck', '--no-verify', '--allow-dirty'], {
      cwd: lib,
      env: { CARGO_REGISTRIES_CK_TOKEN: registry.adminToken! },
    });
    assert.equal(published.code, 0, published.stderr);
    writeConfig(sandbox, registry);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    assert.equal(await registry?.stop(), 0);
    await provider?.stop();
  });

  async function browserContext(): Promise<BrowserContext> {
    const context = await browser.newContext();
    // The provider's development pages import a web font; the test has no internet.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    return context;
  }

  /** Opens the approval link; signs in at the provider when the registry asks; presses the button. */
  async function decide(context: BrowserContext, link: string, decision: 'approve' | 'deny'): Promise<string> {
    const page = await context.newPage();
    await page.goto(link, { waitUntil: 'domcontentloaded' });
    if (new URL(page.url()).pathname === '/sign-in') {
      await page.click('#oidc-sign-in');
      await page.fill('input[name="login"]', SUB);
      await page.fill('input[name="password"]', 'any password'); // the development provider takes any
      await page.click('button[type="submit"]');
      await page.waitForSelector('input[name="prompt"][value="consent"]', { state: 'attached', timeout: 15_000 });
      await Promise.all([page.waitForURL(`${registry.url}/device**`), page.click('button[type="submit"]')]);
    }
    assert.equal(await page.textContent('#device-name'), `${userInfo().username}@${hostname()}`.slice(0, 100));
    await Promise.all([page.waitForSelector('#notice'), page.click(`#${decision}`)]);
    const notice = (await page.textContent('#notice'))!;
    await page.close();
    return notice;
  }

  async function login(context: BrowserContext, decision: 'approve' | 'deny'): Promise<CargoResult> {
    const running = startCargo(sandbox, ['login', '--registry', 'ck']);
    const link = await approvalLink(running);
    assert.ok(link.startsWith(`${registry.url}/device?user_code=`), link);
    const notice = await decide(context, link, decision);
    assert.match(notice, decision === 'approve' ? /^Approved/ : /^Refused/);
    return running.done;
  }

  it('cargo login: the code on stderr, approved in chromium, a session only the user can read, then cargo build works', async () => {
    const context = await browserContext();
    const result = await login(context, 'approve');
    await context.close();
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Signed in to http:\/\/127\.0\.0\.1:\d+; the session is kept in .*sessions\.json/);
    const file = join(sandbox.home, '.config', 'cratekeeper', 'sessions.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const session = storedSession(sandbox, registry)!;
    assert.match(session.access_token, /^ckt_/);
    assert.match(session.refresh_token, /^ckr_/);

    const app = sandbox.createApp('app1', DEPENDENCY, MAIN);
    const run = await sandbox.run(['run', '-q'], { cwd: app });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'private_dep');
  });

  it('the access token expires; the next cargo command refreshes it silently', async () => {
    const before = storedSession(sandbox, registry)!;
    // The server's clock decides: wait until it refuses the stored token.
    await eventually(async () => assert.equal(await statusWith(registry, before.access_token), 401), 120_000, 1_000);

    const app = sandbox.createApp('app2', DEPENDENCY, MAIN);
    const run = await sandbox.run(['run', '-q'], { cwd: app });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'private_dep');
    const renewed = storedSession(sandbox, registry)!;
    assert.notEqual(renewed.access_token, before.access_token);
    assert.notEqual(renewed.refresh_token, before.refresh_token, 'the refresh token rotated');
    assert.equal(await statusWith(registry, before.access_token), 401, 'the old access token stays refused');
    assert.ok([200, 304].includes(await statusWith(registry, renewed.access_token)));
    // The server's audit log has the refresh (written in a batch, shortly after).
    await eventually(async () => {
      const audit = await runCli(['audit', '--action', 'device-refresh', '--since', '1d', '--data-dir', registry.dataDir]);
      assert.equal(audit.code, 0, audit.stderr);
      assert.match(audit.stdout, /\tdevice-refresh\t.*dana/);
    });
  });

  it('a refused approval fails cargo login with the reason; the session in place is kept', async () => {
    const context = await browserContext();
    const result = await login(context, 'deny');
    await context.close();
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /the sign-in was refused on the approval page; run `cargo login --registry ck` to try again/);
    // cargo's own `get` before the login may have refreshed it (the token lives 30 s), so the
    // session is compared by presence, not by value: a denial neither replaces nor deletes it.
    assert.notEqual(storedSession(sandbox, registry), undefined);
  });

  it('cargo logout revokes the session at the server and deletes it here', async () => {
    const session = storedSession(sandbox, registry)!;
    const logout = await sandbox.run(['logout', '--registry', 'ck']);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(storedSession(sandbox, registry), undefined);
    assert.equal(await statusWith(registry, session.access_token), 401, 'the access token was revoked with its device session');
    // (It may also have expired by now: the audit log tells that the server signed the device out.)
    await eventually(async () => {
      const audit = await runCli(['audit', '--action', 'device-revoke', '--since', '1d', '--data-dir', registry.dataDir]);
      assert.equal(audit.code, 0, audit.stderr);
      assert.match(audit.stdout, /\tdevice-revoke\t.*dana.*\(logout\)/);
    });
    const app = sandbox.createApp('app3', DEPENDENCY, MAIN);
    const locked = await sandbox.run(['build'], { cwd: app });
    assert.notEqual(locked.code, 0);
    assert.match(locked.stderr, /no token found for `ck`/);
  });

  it('polling sooner than the interval (3 s here) is answered slow_down, with the interval 5 s longer', async () => {
    const form = (fields: Record<string, string>) => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'cratekeeper-cli', ...fields }).toString(),
    });
    const started = await fetch(`${registry.url}/oauth/device_authorization`, form({ device_name: 'impatient' }));
    assert.equal(started.status, 200);
    const { device_code: deviceCode, interval } = (await started.json()) as { device_code: string; interval: number };
    assert.equal(interval, 3);
    const poll = async () => {
      const res = await fetch(
        `${registry.url}/oauth/token`,
        form({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode }),
      );
      return { status: res.status, body: (await res.json()) as { error: string; error_description?: string } };
    };
    const first = await poll();
    assert.deepEqual([first.status, first.body.error], [400, 'authorization_pending']);
    const second = await poll(); // back to back: well within 3 s
    assert.deepEqual([second.status, second.body.error], [400, 'slow_down']);
    assert.match(second.body.error_description ?? '', /wait 8 s/);
  });

  it("removed from the group at the provider: the next refresh fails and cargo shows the server's reason", async () => {
    const context = await browserContext();
    const result = await login(context, 'approve');
    await context.close();
    assert.equal(result.code, 0, result.stderr);
    const session = storedSession(sandbox, registry)!;

    accounts[SUB]!.groups = ['alumni'];
    await eventually(async () => assert.equal(await statusWith(registry, session.access_token), 401), 120_000, 1_000);
    const app = sandbox.createApp('app4', DEPENDENCY, MAIN);
    const refused = await sandbox.run(['build'], { cwd: app });
    assert.notEqual(refused.code, 0);
    assert.match(
      refused.stderr,
      /the registry refused to renew your session: the identity provider no longer puts dana in an authorized group/,
    );
    assert.match(refused.stderr, /Sign in again with `cargo login --registry ck`/);
    assert.equal(storedSession(sandbox, registry), undefined, 'the dead session was deleted');
  });
});

describe('a device code nobody approves in time', () => {
  let registry: RunningRegistry;
  before(async () => {
    const config = join(makeTempDir(), 'cratekeeper.toml');
    writeFileSync(config, '[auth.device_flow]\ncode_lifetime = "2s"\npoll_interval = "1s"\n');
    registry = await startRegistry({ args: ['--config', config] });
  });
  after(async () => {
    assert.equal(await registry?.stop(), 0);
  });

  it('an expired device code ends cargo login with the way to start over', async () => {
    const sandbox = new CargoSandbox();
    writeConfig(sandbox, registry);
    const running = startCargo(sandbox, ['login', '--registry', 'ck']);
    const result = await running.done;
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /To sign in, open http:\/\/127\.0\.0\.1:\d+\/device and enter the code [A-Z0-9]{4}-[A-Z0-9]{4}/);
    assert.match(result.stderr, /the code [A-Z0-9]{4}-[A-Z0-9]{4} expired before it was approved; run `cargo login --registry ck` again/);
  });
});
