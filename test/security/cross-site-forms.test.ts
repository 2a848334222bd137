// Form posts from another site are refused even with a valid CSRF token: `Sec-Fetch-Site` must be
// `same-origin` (or `none`), else an `Origin` must be the registry's own (from its public URL). A
// post with neither header (curl, older clients) relies on the CSRF token as before. Covers the
// pages behind a session (web-context.ts) and the sign-in forms (login.ts), which change nothing
// when refused.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { cookieFrom, formBody, hiddenCsrf, signInWithToken, type PageSession } from '../support/web-session.js';

const CROSS_SITE: [string, Record<string, string>, RegExp][] = [
  [
    'Origin of another site',
    { origin: 'https://evil.example' },
    /this form was sent from another site \(Origin: https:\/\/evil.example\), not from http:\/\/registry.test/,
  ],
  ['Origin null (a sandboxed frame)', { origin: 'null' }, /sent from another site \(Origin: null\)/],
  ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }, /sent from another site \(Sec-Fetch-Site: cross-site\)/],
  ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site', origin: 'https://wiki.registry.test' }, /another site on the same domain/],
  ['a cross-site fetch that claims our Origin', { 'sec-fetch-site': 'cross-site', origin: PUBLIC_URL }, /Sec-Fetch-Site: cross-site/],
];

const SAME_SITE: [string, Record<string, string>][] = [
  ['no Origin and no Sec-Fetch-Site (curl)', {}],
  ['our own Origin', { origin: PUBLIC_URL }],
  ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin', origin: PUBLIC_URL }],
  [
    'Sec-Fetch-Site: same-origin, reached under another name than the public URL',
    { 'sec-fetch-site': 'same-origin', origin: 'http://localhost:8000' },
  ],
];

describe('form posts from another site', () => {
  let r: TestRegistry;
  let admin: PageSession;
  before(async () => {
    r = await startTestRegistry();
    admin = await signInWithToken(r, r.adminToken);
  });
  after(() => r.close());

  const tokenCount = async () => (await r.registry.accounts.listTokens('admin')).length;
  const createToken = (headers: Record<string, string>) =>
    r.request({
      method: 'POST',
      url: '/tokens',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: formBody({ csrf: admin.csrf, name: 'from a form', scopes: ['read'], expiry: '7' }),
    });

  for (const [what, headers, message] of CROSS_SITE) {
    it(`a page form with a valid CSRF token is refused with 403 when sent with ${what}`, async () => {
      const before = await tokenCount();
      const res = await createToken(headers);
      assert.equal(res.statusCode, 403, res.body);
      assert.match(res.headers['content-type'] as string, /text\/html/);
      assert.match(res.body, message);
      assert.match(res.body, /nothing was changed/);
      assert.equal(await tokenCount(), before);
    });
  }

  for (const [what, headers] of SAME_SITE) {
    it(`a page form is accepted with ${what}`, async () => {
      const before = await tokenCount();
      const res = await createToken(headers);
      assert.equal(res.statusCode, 201, res.body);
      assert.equal(await tokenCount(), before + 1);
    });
  }

  it('signing out from another site is refused too, and the session stays', async () => {
    const res = await r.request({
      method: 'POST',
      url: '/sign-out',
      headers: { cookie: admin.cookie, 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      payload: formBody({ csrf: admin.csrf }),
    });
    assert.equal(res.statusCode, 403);
    assert.equal((await admin.get('/tokens')).statusCode, 200);
  });

  /** Posts a sign-in form with its flow cookie and CSRF token, as the sign-in page gave them. */
  async function postSignIn(path: string, fields: Record<string, string>, headers: Record<string, string>) {
    const page = await r.request({ method: 'GET', url: '/sign-in' });
    return r.request({
      method: 'POST',
      url: path,
      headers: { cookie: cookieFrom(page, 'ck_login')!, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: formBody({ csrf: hiddenCsrf(page.body), ...fields }),
    });
  }

  for (const [what, headers, message] of CROSS_SITE) {
    it(`the token sign-in form is refused with 403 when sent with ${what}, and starts no session`, async () => {
      const res = await postSignIn('/me/token-sign-in', { token: r.adminToken }, headers);
      assert.equal(res.statusCode, 403, res.body);
      assert.match(res.body, /Sign-in refused/);
      assert.match(res.body, message);
      assert.equal(cookieFrom(res, 'ck_session'), undefined);
    });
  }

  it('the password sign-in form is refused from another site before any password is checked', async () => {
    const res = await postSignIn('/me/login', { login: 'admin', password: 'whatever it is' }, { 'sec-fetch-site': 'cross-site' });
    assert.equal(res.statusCode, 403, res.body);
    assert.match(res.body, /sent from another site/);
  });

  for (const [what, headers] of SAME_SITE) {
    it(`the token sign-in form works with ${what}`, async () => {
      const res = await postSignIn('/me/token-sign-in', { token: r.adminToken }, headers);
      assert.equal(res.statusCode, 303, res.body);
      assert.ok(cookieFrom(res, 'ck_session'));
    });
  }
});
