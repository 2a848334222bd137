// Trusted publishing: a CI job's ID token (signed by an issuer that serves a real discovery
// document and JWKS) is traded for a short-lived token that publishes through the real cargo;
// wrong audience, expired, replayed, forged and unmatched ID tokens are refused with their reasons.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CargoSandbox } from '../support/cargo.js';
import { errorDetail, httpRequest } from '../support/http-client.js';
import { startCiIssuer, type CiIssuer } from '../support/oidc-provider.js';
import { runCli, startRegistry, type RunningRegistry } from '../support/registry-server.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

const AUDIENCE = 'https://crates.example.com';
const GOOD_CLAIMS = { sub: 'project_path:group/app:ref_type:branch:ref:main', project_path: 'group/app', ref: 'main', aud: AUDIENCE };

describe('trusted publishing from CI with the real cargo', () => {
  let issuer: CiIssuer;
  let server: RunningRegistry;
  const exchange = (idToken: unknown) =>
    httpRequest(`${server.url}/api/v1/trusted_publishing/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ id_token: idToken })),
    });

  before(async () => {
    issuer = await startCiIssuer();
    const configFile = join(makeTempDir(), 'cratekeeper.toml');
    writeFileSync(
      configFile,
      [
        '[[trusted_publishing]]',
        `issuer_url = "${issuer.issuer}"`,
        `audience = "${AUDIENCE}"`,
        'claims = { project_path = "group/app", ref = "main" }',
        'crates = ["app-*"]',
        'user = "ci-bot"',
        'token_minutes = 30',
        '',
      ].join('\n'),
    );
    server = await startRegistry({ args: ['--config', configFile] });
    assert.equal((await runCli(['user', 'add', 'ci-bot', '--data-dir', server.dataDir])).code, 0);
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    await issuer?.stop();
  });

  it('trades a matching ID token for a 30-minute publish token scoped to app-*, which cargo publishes with', async () => {
    const res = await exchange(await issuer.mint(GOOD_CLAIMS));
    assert.equal(res.status, 201, res.body.toString());
    const issued = JSON.parse(res.body.toString()) as { token: string; expires_at: string; user: string; crates: string[] };
    assert.match(issued.token, /^ckt_/);
    assert.equal(issued.user, 'ci-bot');
    assert.deepEqual(issued.crates, ['app-*']);
    const minutes = (Date.parse(issued.expires_at) - Date.now()) / 60_000;
    assert.ok(minutes > 29 && minutes <= 30, `expires in ${minutes} min`);

    // As a CI job would: the token in CARGO_REGISTRIES_CK_TOKEN, no `cargo login`.
    const cargo = new CargoSandbox();
    cargo.configure(`${server.url}/index/`);
    const env = { CARGO_REGISTRIES_CK_TOKEN: issued.token };
    const pkg = cargo.createPackage({ name: 'app-core', version: '0.1.0' });
    const published = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: pkg, env });
    assert.equal(published.code, 0, published.stderr);
    const other = cargo.createPackage({ name: 'not-app', version: '0.1.0' });
    const refused = await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: other, env });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /this token is limited to crates matching `app-\*`, and `not-app` is not one of them/);
    const yank = await cargo.run(['yank', '--registry', 'ck', 'app-core@0.1.0'], { env });
    assert.notEqual(yank.code, 0);
    assert.match(yank.stderr, /this token lacks the `yank` scope/);

    const tokens = await runCli(['token', 'list', '--user', 'ci-bot', '--data-dir', server.dataDir]);
    assert.match(tokens.stdout, /trusted publishing \(rule 1\)\t.*\tread,publish-new,publish-update\tapp-\*/);
  });

  it('refuses a replayed ID token', async () => {
    const idToken = await issuer.mint({ ...GOOD_CLAIMS, jti: 'job-4711' });
    assert.equal((await exchange(idToken)).status, 201);
    const again = await exchange(idToken);
    assert.equal(again.status, 401);
    assert.equal(errorDetail(again), 'this ID token (jti `job-4711`) was already used; each ID token can be exchanged once');
  });

  it('refuses a wrong audience, naming both', async () => {
    const res = await exchange(await issuer.mint({ ...GOOD_CLAIMS, aud: 'https://other.example.com' }));
    assert.equal(res.status, 401);
    assert.equal(errorDetail(res), `the ID token's audience (\`https://other.example.com\`) is not \`${AUDIENCE}\``);
  });

  it('refuses an expired ID token', async () => {
    const past = Math.floor(Date.now() / 1000) - 600;
    const res = await exchange(await issuer.mint({ ...GOOD_CLAIMS, iat: past - 300, nbf: past - 300, exp: past }));
    assert.equal(res.status, 401);
    assert.equal(errorDetail(res), `the ID token expired at ${new Date(past * 1000).toISOString()}`);
  });

  it('refuses claims that no rule matches, showing the values', async () => {
    const res = await exchange(await issuer.mint({ ...GOOD_CLAIMS, ref: 'feature/x' }));
    assert.equal(res.status, 403);
    assert.equal(errorDetail(res), 'no trusted publishing rule matches this ID token (project_path="group/app", ref="feature/x")');
  });

  it('refuses a token signed with a key the issuer does not publish, an unknown issuer and a non-JWT', async () => {
    const forged = await exchange(await issuer.mintForged(GOOD_CLAIMS));
    assert.equal(forged.status, 401);
    assert.equal(errorDetail(forged), "the ID token's signature does not verify with the issuer's published keys");
    const stranger = await exchange(await issuer.mint({ ...GOOD_CLAIMS, iss: 'https://gitlab.example.org' }));
    assert.equal(errorDetail(stranger), 'ID tokens from issuer `https://gitlab.example.org` are not trusted here');
    assert.equal(errorDetail(await exchange('not-a-jwt')), 'the ID token is not a JWT');
    assert.match(errorDetail(await exchange(undefined)), /send a JSON body \{"id_token"/);
  });

  // Last: it leaves this address over its limit of failures.
  it('answers a flood of forged ID tokens with 429, and still trades a valid one from the same address', async () => {
    let last;
    for (let i = 0; i < 40; i++) last = await exchange(await issuer.mintForged(GOOD_CLAIMS));
    assert.equal(last!.status, 429);
    assert.ok(Number(last!.headers['retry-after']) > 0);
    // CI runners share addresses: one job's garbage must not lock out another's valid token.
    assert.equal((await exchange(await issuer.mint(GOOD_CLAIMS))).status, 201);
  });
});
