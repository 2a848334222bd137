// Sign-in through a real OpenID provider (oidc-provider, sending GitLab's `groups` claim), driven
// with an HTTP client through the provider's login and consent pages; then the real cargo with
// the token from /me, a refusal for a user outside the authorized groups, and token replacement.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { HttpBrowser, signInWithHttp, startOidcProvider, tokenOnPage, type TestOidcProvider } from '../support/oidc-provider.js';
import { startRegistryWithOidc } from '../support/oidc-registry.js';
import { runCli, type RunningRegistry } from '../support/registry-server.js';

describe('OIDC sign-in with a real provider and the real cargo', () => {
  let provider: TestOidcProvider;
  let server: RunningRegistry;
  let aliceToken: string;

  before(async () => {
    provider = await startOidcProvider({
      'gitlab-1001': { preferred_username: 'alice', email: 'alice@example.com', groups: ['devs', 'devs/backend'] },
      'gitlab-1002': { preferred_username: 'mallory', email: 'mallory@example.com', groups: ['outsiders'] },
      'gitlab-1003': { preferred_username: 'alice', email: 'other.alice@example.com', groups: ['devs'] },
    });
    // The client secret comes from the environment, as documented.
    server = await startRegistryWithOidc(provider, {
      oidc: ['authorized_groups = ["devs"]'],
      config: ['[login]', 'registry_name = "ck"', '[[access.rules]]', 'crates = ["team-*"]', 'publish = ["group:devs/backend"]'],
    });
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    await provider?.stop();
  });

  it('signs alice in through the provider and shows her token with the cargo commands', async () => {
    const page = await signInWithHttp(server.url, 'gitlab-1001');
    assert.equal(page.status, 200, page.body);
    assert.ok(page.url.startsWith(`${server.url}/me/callback`));
    assert.match(page.body, /Signed in as <strong id="login">alice<\/strong>/);
    assert.match(page.body, /cargo login --registry ck/);
    aliceToken = tokenOnPage(page.body);
    assert.ok(page.body.includes(`[registries.ck]\nindex = "sparse+${server.url}/index/"\ncredential-provider = "cargo:token"`));
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.match(aliceToken, /^ckt_/);
  });

  it('with that token the real cargo publishes (group access rule from the groups claim) and builds', async () => {
    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    const login = await cargo.run(['login', '--registry', 'ck'], { input: `${aliceToken}\n` });
    assert.equal(login.code, 0, login.stderr);
    const pkg = cargo.createPackage({ name: 'team-lib', version: '1.0.0', lib: 'pub fn answer() -> u32 { 42 }\n' });
    const published = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg });
    assert.equal(published.code, 0, published.stderr);
    const app = cargo.createApp(
      'uses-team-lib',
      ['team-lib = { version = "1", registry = "ck" }'],
      'fn main() { println!("{}", team_lib::answer()); }\n',
    );
    const run = await cargo.run(['run', '--quiet'], { cwd: app });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), '42');
    const owners = await cargo.run(['owner', '--registry', 'ck', '--list', 'team-lib']);
    assert.match(owners.stdout, /^alice$/m);
  });

  it('a second sign-in does not mint another token, and says how to replace it', async () => {
    const page = await signInWithHttp(server.url, 'gitlab-1001');
    assert.equal(page.status, 200);
    assert.match(page.body, /You already have a login token/);
    assert.match(page.body, /\/me\/replace_token/);
    assert.doesNotMatch(page.body, /ckt_/);
  });

  it('refuses a user outside the authorized groups, saying why', async () => {
    const page = await signInWithHttp(server.url, 'gitlab-1002');
    assert.equal(page.status, 403);
    assert.match(
      page.body,
      /mallory may not sign in to this registry: not a member of any authorized group \(devs\); groups at the provider: outsiders/,
    );
    assert.doesNotMatch(page.body, /ckt_/);
  });

  it('keys users by sub: another person named alice becomes alice-2', async () => {
    const page = await signInWithHttp(server.url, 'gitlab-1003');
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Signed in as <strong id="login">alice-2<\/strong>/);
    const tokens = await runCli(['token', 'list', '--user', 'alice-2', '--data-dir', server.dataDir]);
    assert.match(tokens.stdout, /web login/);
  });

  it('refuses a callback without the sign-in cookie (CSRF on the flow)', async () => {
    const page = await new HttpBrowser().go(`${server.url}/me/callback?code=forged&state=forged`);
    assert.equal(page.status, 400);
    assert.match(page.body, /this sign-in expired or was started in another browser/);
  });

  it('replace_token revokes the old token: cargo then gets "token rejected"', async () => {
    const page = await signInWithHttp(server.url, 'gitlab-1001', '/me/replace_token');
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Your previous login token was revoked/);
    const fresh = tokenOnPage(page.body);
    assert.notEqual(fresh, aliceToken);

    await new Promise((r) => setTimeout(r, 600)); // > cache.poll_interval_ms: every process has seen the revocation
    const old = new CargoSandbox();
    old.configure(`${server.url}/index/`);
    await old.run(['login', '--registry', 'ck'], { input: `${aliceToken}\n` });
    const dir = old.createApp('old-token', ['team-lib = { version = "1", registry = "ck" }'], 'fn main() {}\n');
    const refused = await old.run(['generate-lockfile'], { cwd: dir });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /token rejected for `ck`/);

    const renewed = new CargoSandbox();
    renewed.configure(`${server.url}/index/`);
    await renewed.run(['login', '--registry', 'ck'], { input: `${fresh}\n` });
    const ok = await renewed.run(['generate-lockfile'], {
      cwd: renewed.createApp('new-token', ['team-lib = { version = "1", registry = "ck" }'], 'fn main() {}\n'),
    });
    assert.equal(ok.code, 0, ok.stderr);
  });
});
