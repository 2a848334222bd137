// `oidc.authorized_users` with a real OpenID provider (oidc-provider): a user is authorized by the
// provider's `sub` or by an e-mail address the provider verified; an unverified e-mail, or a
// `preferred_username` / `nickname` equal to an authorized entry, authorizes nobody, and the
// refusal page says what would.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signInWithHttp, startOidcProvider, type TestOidcProvider } from '../support/oidc-provider.js';
import { startRegistryWithOidc } from '../support/oidc-registry.js';
import type { RunningRegistry } from '../support/registry-server.js';

describe('OIDC authorized users: sub and verified e-mail only', () => {
  let provider: TestOidcProvider;
  let server: RunningRegistry;

  before(async () => {
    provider = await startOidcProvider({
      'acct-1001': { preferred_username: 'boss' },
      'acct-2002': { preferred_username: 'ops', email: 'Ops@Example.com', email_verified: true },
      'acct-3003': { preferred_username: 'mallory', email: 'ops@example.com', email_verified: false },
      'acct-4004': { preferred_username: 'eve', email: 'ops@example.com' },
      'acct-5005': { preferred_username: 'acct-1001', nickname: 'ops@example.com' },
    });
    server = await startRegistryWithOidc(provider, { oidc: ['authorized_users = ["acct-1001", "ops@example.com"]'] });
  });
  after(async () => {
    assert.equal(await server?.stop(), 0);
    await provider?.stop();
  });

  it('authorizes by sub', async () => {
    const page = await signInWithHttp(server.url, 'acct-1001');
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Signed in as <strong id="login">boss<\/strong>/);
  });

  it('authorizes by an e-mail the provider verified', async () => {
    const page = await signInWithHttp(server.url, 'acct-2002');
    assert.equal(page.status, 200, page.body);
    assert.match(page.body, /Signed in as <strong id="login">ops<\/strong>/);
  });

  for (const [sub, why] of [
    ['acct-3003', 'email_verified false'],
    ['acct-4004', 'no email_verified claim'],
  ]) {
    it(`refuses the same e-mail unverified (${why}), saying so`, async () => {
      const page = await signInWithHttp(server.url, sub);
      assert.equal(page.status, 403, page.body);
      assert.match(
        page.body,
        new RegExp(
          `not one of the authorized users either \\(matched by sub, here ${sub}, or by a verified e-mail: the provider did not verify ops@example.com\\)`,
        ),
      );
      assert.doesNotMatch(page.body, /ckt_/);
    });
  }

  it('refuses a preferred_username or nickname that equals an authorized entry', async () => {
    const page = await signInWithHttp(server.url, 'acct-5005');
    assert.equal(page.status, 403, page.body);
    assert.match(page.body, /acct-1001 may not sign in to this registry/);
    assert.match(page.body, /matched by sub, here acct-5005/);
  });
});
