// The web pages through fastify's inject: sessions, CSRF, the security headers, browsing, "My
// tokens", and that a crate a user may not read appears nowhere, on any page or API.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { encodePublishBody } from '../../src/domain/publish-body.js';
import { dependency, makeCrate, metadataFor, publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { legacyLoginCookieValue } from '../support/legacy-login-cookie.js';
import { cookieFrom, formBody, hiddenCsrf, signInWithToken, type PageSession } from '../support/web-session.js';

const RULES = `[[access.rules]]
crates = ["secret"]
read = ["alice"]
`;

describe('web pages', () => {
  let r: TestRegistry;
  let alice: string; // may read `secret`
  let bob: string; // may not
  let admin: PageSession;
  let bobPages: PageSession;

  const publish = async (token: string, name: string, version: string, overrides: Record<string, unknown> = {}) => {
    const res = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token,
      payload: await publishBodyFor(name, version, overrides),
    });
    assert.equal(res.statusCode, 200, res.body);
  };

  before(async () => {
    r = await startTestRegistry({}, RULES);
    alice = await r.userToken('alice');
    bob = await r.userToken('bob');
    await publish(alice, 'secret', '1.0.0', { description: 'the hidden one' });
    await publish(alice, 'widget-core', '0.9.0');
    await publish(alice, 'widget-core', '1.0.0', { description: 'core parts of widgets' });
    await publish(alice, 'widget', '1.2.0', {
      description: 'widgets for everyone',
      license: 'MIT OR Apache-2.0',
      repository: 'https://git.example.com/team/widget',
      features: { default: ['fast'], fast: [] },
      deps: [
        dependency('widget-core', '^1.0'),
        dependency('secret', '^1'),
        dependency('serde', '^1', { registry: 'https://github.com/rust-lang/crates.io-index' }),
      ],
    });
    await publish(alice, 'widget', '1.3.0');
    assert.equal((await r.request({ method: 'DELETE', url: '/api/v1/crates/widget/1.3.0/yank', token: alice })).statusCode, 200);
    admin = await signInWithToken(r, r.adminToken);
    bobPages = await signInWithToken(r, bob);
  });
  after(() => r.close());

  describe('sessions', () => {
    it('sends visitors without a session to sign in, and back afterwards', async () => {
      const res = await r.request({ method: 'GET', url: '/crates/widget' });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/sign-in?next=%2Fcrates%2Fwidget');
      const page = await r.request({ method: 'GET', url: '/sign-in?next=%2Fcrates%2Fwidget' });
      const flow = cookieFrom(page, 'ck_login')!;
      const done = await r.request({
        method: 'POST',
        url: '/me/token-sign-in',
        headers: { cookie: flow, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ csrf: hiddenCsrf(page.body), token: bob }),
      });
      assert.equal(done.headers.location, '/crates/widget');
    });

    it('asks a sign-in started before an upgrade (the hand-sealed cookie of earlier versions) to start again', async () => {
      const legacy = await legacyLoginCookieValue(
        r.registry.metadata.secrets,
        { purpose: 'web', next: '/crates/widget', csrf: 'c-legacy' },
        Date.now(),
      );
      const refused = await r.request({
        method: 'POST',
        url: '/me/token-sign-in',
        headers: { cookie: `ck_login=${legacy}`, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ csrf: 'c-legacy', token: bob }),
      });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.match(refused.body, /the form expired or did not come from this registry; start again at \/sign-in/);
      assert.equal(cookieFrom(refused, 'ck_session'), undefined);
      const page = await r.request({ method: 'GET', url: '/sign-in?next=%2Fcrates%2Fwidget' });
      const done = await r.request({
        method: 'POST',
        url: '/me/token-sign-in',
        headers: { cookie: cookieFrom(page, 'ck_login')!, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ csrf: hiddenCsrf(page.body), token: bob }),
      });
      assert.equal(done.headers.location, '/crates/widget', 'signing in again works');
    });

    it('keeps the sign-in form working while the browser fetches /favicon.ico without a session', async () => {
      const page = await r.request({ method: 'GET', url: '/sign-in?next=%2Fcrates%2Fwidget', headers: { 'sec-fetch-dest': 'document' } });
      const flow = cookieFrom(page, 'ck_login')!;
      assert.ok(flow, 'a page the user opens starts a sign-in');
      // The favicon is redirected to the sign-in page like any protected path; that fetch starts nothing.
      const icon = await r.request({ method: 'GET', url: '/favicon.ico', headers: { 'sec-fetch-dest': 'image' } });
      assert.equal(icon.statusCode, 303);
      const iconSignIn = await r.request({ method: 'GET', url: icon.headers.location as string, headers: { 'sec-fetch-dest': 'image' } });
      assert.equal(iconSignIn.headers['set-cookie'], undefined);
      const done = await r.request({
        method: 'POST',
        url: '/me/token-sign-in',
        headers: { cookie: flow, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ csrf: hiddenCsrf(page.body), token: bob }),
      });
      assert.equal(done.headers.location, '/crates/widget');
    });

    it('never sends a visitor to another site, or to an overlong path, after signing in', async () => {
      for (const next of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', `/crates/${'a'.repeat(3000)}`]) {
        const page = await r.request({ method: 'GET', url: `/sign-in?next=${encodeURIComponent(next)}` });
        const done = await r.request({
          method: 'POST',
          url: '/me/token-sign-in',
          headers: { cookie: cookieFrom(page, 'ck_login')!, 'content-type': 'application/x-www-form-urlencoded' },
          payload: formBody({ csrf: hiddenCsrf(page.body), token: bob }),
        });
        assert.equal(done.headers.location, '/', next);
      }
    });

    it('keeps the session in an HTTP-only, SameSite cookie for the whole site', async () => {
      const page = await r.request({ method: 'GET', url: '/sign-in' });
      const done = await r.request({
        method: 'POST',
        url: '/me/token-sign-in',
        headers: { cookie: cookieFrom(page, 'ck_login')!, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ csrf: hiddenCsrf(page.body), token: bob }),
      });
      const setCookie = ([] as string[]).concat(done.headers['set-cookie'] ?? []).find((c) => c.startsWith('ck_session='))!;
      assert.match(setCookie, /; Path=\/;/);
      assert.match(setCookie, /; HttpOnly/);
      assert.match(setCookie, /; SameSite=Lax/);
      assert.match(setCookie, /; Max-Age=43200/);
    });

    it('refuses a token limited in scope or crates, and a wrong token, saying why', async () => {
      const narrow = (await r.registry.accounts.createToken('bob', 'ci', { scopes: ['read'] })).token;
      for (const [token, message] of [
        [narrow, /every scope and every crate/],
        ['ckt_not-a-real-token', /token rejected/],
      ] as const) {
        const page = await r.request({ method: 'GET', url: '/sign-in' });
        const res = await r.request({
          method: 'POST',
          url: '/me/token-sign-in',
          headers: { cookie: cookieFrom(page, 'ck_login')!, 'content-type': 'application/x-www-form-urlencoded' },
          payload: formBody({ csrf: hiddenCsrf(page.body), token }),
        });
        assert.ok(res.statusCode === 401 || res.statusCode === 403, `${res.statusCode}`);
        assert.match(res.body, message);
        assert.equal(cookieFrom(res, 'ck_session'), undefined);
      }
    });

    it('a session is not a cargo token, and a cargo token is not a session', async () => {
      const sessionToken = admin.cookie.slice('ck_session='.length);
      const api = await r.request({ method: 'GET', url: '/api/v1/crates?q=widget', token: sessionToken });
      assert.equal(api.statusCode, 401);
      assert.match(JSON.parse(api.body).errors[0].detail, /a browser session is not a cargo token/);
      const planted = await r.request({ method: 'GET', url: '/tokens', headers: { cookie: `ck_session=${r.adminToken}` } });
      assert.equal(planted.statusCode, 303, 'an API token in the cookie is no session');
    });

    it('signing out ends the session on the server, not only in the browser', async () => {
      const session = await signInWithToken(r, bob);
      assert.equal((await session.get('/tokens')).statusCode, 200);
      const out = await session.post('/sign-out');
      assert.equal(out.statusCode, 303);
      assert.match(String(out.headers['set-cookie']), /ck_session=; Path=\/; Max-Age=0/);
      const after = await session.get('/tokens');
      assert.equal(after.statusCode, 303, 'the old cookie no longer works');
      const again = await session.post('/sign-out');
      assert.equal(again.statusCode, 303, 'signing out of an ended session just clears the cookie');
    });

    it('records sign-ins and failed ones in the audit log', async () => {
      await r.registry.audit.flush();
      const res = await r.request({ method: 'GET', url: '/api/v1/admin/audit?action=login&user=bob', token: r.adminToken });
      const events = JSON.parse(res.body).events as { detail: string }[];
      assert.ok(events.length >= 1);
      assert.match(events[0]!.detail, /token, for web/);
      const failed = await r.request({ method: 'GET', url: '/api/v1/admin/audit?action=login-failed', token: r.adminToken });
      assert.ok((JSON.parse(failed.body).events as unknown[]).length >= 1);
    });
  });

  describe('security headers and CSRF', () => {
    it('serves pages with a strict Content-Security-Policy, never cached', async () => {
      const res = await admin.get('/crates/widget');
      assert.equal(res.statusCode, 200);
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
      assert.equal(res.headers['cache-control'], 'no-store');
      assert.doesNotMatch(res.body, /<script>|style="/, 'no inline script or style');
    });

    it("answers an unknown path with a page for browsers and with cargo's JSON for everyone else", async () => {
      const forBrowser = await r.request({
        method: 'GET',
        url: '/no/such/page',
        headers: { cookie: admin.cookie, accept: 'text/html,*/*' },
      });
      assert.equal(forBrowser.statusCode, 404);
      assert.match(String(forBrowser.headers['content-type']), /^text\/html/);
      assert.match(forBrowser.body, /no such path: GET \/no\/such\/page/);
      const forCargo = await r.request({ method: 'GET', url: '/no/such/page', token: r.adminToken });
      assert.deepEqual(JSON.parse(forCargo.body), { errors: [{ detail: 'no such path: GET /no/such/page' }] });
    });

    it('serves the stylesheet and script the pages name', async () => {
      const page = await admin.get('/');
      for (const path of page.body.match(/\/static\/[a-z]+-[0-9a-f]{12}\.(css|js)/g)!) {
        const res = await r.request({ method: 'GET', url: path });
        assert.equal(res.statusCode, 200, path);
        assert.match(String(res.headers['cache-control']), /immutable/);
      }
    });

    it('refuses a form without the session’s CSRF token, and changes nothing', async () => {
      const before = (await r.registry.accounts.listTokens('admin')).length;
      const missing = await admin.post('/tokens', { name: 'x', scopes: ['read'], expiry: '7', csrf: '' });
      assert.equal(missing.statusCode, 403);
      assert.match(missing.body, /form expired or did not come from this registry/);
      const otherSessions = await admin.post('/tokens', { name: 'x', scopes: ['read'], expiry: '7', csrf: bobPages.csrf });
      assert.equal(otherSessions.statusCode, 403);
      assert.equal((await r.registry.accounts.listTokens('admin')).length, before);
    });
  });

  describe('browsing', () => {
    it('finds crates by name and description', async () => {
      const res = await admin.get('/search?q=widget');
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /1–2 of 2 crates matching “widget”/);
      assert.match(res.body, /<a href="\/crates\/widget"><strong>widget<\/strong><\/a> <span class="muted">1\.2\.0<\/span>/);
      assert.match((await admin.get('/search?q=core%20parts')).body, /href="\/crates\/widget-core"/);
    });

    it('shows a crate: versions with the yanked one marked, dependencies, features, owners, license, the cargo add line', async () => {
      const res = await admin.get('/crates/widget');
      assert.equal(res.statusCode, 200);
      const body = res.body;
      assert.match(body, /<code id="cargo-add">cargo add widget@1\.2\.0 --registry private<\/code>/);
      assert.match(body, /data-copy="cargo add widget@1\.2\.0 --registry private"/);
      assert.match(body, /<a href="\/crates\/widget\/1\.3\.0">1\.3\.0<\/a> <span class="badge">yanked<\/span>/);
      assert.match(body, /<dd id="license">MIT OR Apache-2\.0<\/dd>/);
      assert.match(body, /<a href="\/crates\/widget-core">widget-core<\/a><\/td><td><code>\^1\.0<\/code>/);
      assert.match(body, /<a href="https:\/\/crates\.io\/crates\/serde">serde<\/a>/);
      assert.match(body, /<td><code>fast<\/code><\/td><td><span class="muted">nothing else<\/span>/);
      assert.match(body, /<ul id="owners"><li>alice<\/li><\/ul>/);
      assert.match(body, /href="https:\/\/git\.example\.com\/team\/widget"/);
      const yanked = await admin.get('/crates/widget/1.3.0');
      assert.match(yanked.body, /<strong>1\.3\.0<\/strong> <span class="badge yanked">yanked<\/span>/);
      assert.equal((await admin.get('/crates/widget/9.9.9')).statusCode, 404);
    });

    it('renders the README from the .crate, inert, with relative links resolved against the repository', async () => {
      const readme = [
        '# Readme of readmed',
        'Use it **well**. See [the guide](docs/guide.md) and ![logo](img/logo.png).',
        '<script>window.pwned = 1</script>',
        '<img src="x" onerror="window.pwned = 2">',
        '[click me](javascript:window.pwned=3)',
        '<a href="JaVaScRiPt:window.pwned=4">shouting</a>',
      ].join('\n\n');
      const crate = await makeCrate('readmed', '1.0.0', [{ name: 'readmed-1.0.0/README.md', body: readme }]);
      const body = encodePublishBody(metadataFor('readmed', '1.0.0', { repository: 'https://github.com/team/readmed' }), crate);
      assert.equal((await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: alice, payload: body })).statusCode, 200);
      const page = (await admin.get('/crates/readmed')).body;
      const rendered = /<div class="readme" id="readme">([\s\S]*?)<\/div>\n<\/section>/.exec(page)![1]!;
      assert.match(rendered, /<h1 id="user-content-readme-of-readmed">Readme of readmed<\/h1>/);
      assert.match(rendered, /<strong>well<\/strong>/);
      assert.match(rendered, /href="https:\/\/github\.com\/team\/readmed\/blob\/HEAD\/docs\/guide\.md"/);
      assert.match(rendered, /src="https:\/\/github\.com\/team\/readmed\/raw\/HEAD\/img\/logo\.png"/);
      assert.doesNotMatch(rendered, /<script|onerror|(href|src)="\s*javascript:/i);
      assert.match(rendered, /<p>shouting<\/p>/, 'the link text stays, without its link');
      assert.match(rendered, /\[click me\]\(javascript:window\.pwned=3\)/, 'markdown refuses the link: it stays text');
    });

    it('escapes what publishers wrote', async () => {
      await publish(alice, 'escaped', '1.0.0', {
        description: '<script>alert(1)</script>',
        license: '<b>MIT</b>',
        repository: 'javascript:alert(1)',
      });
      const body = (await admin.get('/crates/escaped')).body;
      assert.doesNotMatch(body, /<script>alert|<b>MIT|href="javascript:/);
      assert.match(body, /&#60;script&#62;alert\(1\)&#60;\/script&#62;/);
    });
  });

  describe('a crate the user may not read appears nowhere', () => {
    it('not in search results or counts', async () => {
      const all = await bobPages.get('/search?q=');
      assert.doesNotMatch(all.body, /secret|hidden one/);
      const mine = await admin.get('/search?q=');
      assert.match(mine.body, /href="\/crates\/secret"/, 'the admin sees it, so the query would find it');
      const count = (page: string) => Number(/Browse all (\d+) crate/.exec(page)![1]);
      assert.equal(count((await bobPages.get('/')).body), count((await admin.get('/')).body) - 1);
      assert.doesNotMatch((await bobPages.get('/search?q=hidden')).body, /secret/);
    });

    it('not as a page, whatever the spelling, nor a version page', async () => {
      for (const url of ['/crates/secret', '/crates/SECRET', '/crates/secret/1.0.0']) {
        const res = await bobPages.get(url);
        assert.equal(res.statusCode, 404, url);
        assert.match(res.body, /there is no crate `(secret|SECRET)`/);
      }
      await r.registry.audit.flush();
      const refusals = JSON.parse(
        (await r.request({ method: 'GET', url: '/api/v1/admin/audit?action=access-refused&user=bob', token: r.adminToken })).body,
      ).events as { detail: string }[];
      assert.ok(
        refusals.some((e) => e.detail === 'page /crates/secret/1.0.0: there is no crate `secret`'),
        'the refusal is audited',
      );
      const nothing = await bobPages.get('/crates/no-such-crate');
      assert.equal(
        nothing.body.replace(/no-such-crate/g, 'X'),
        (await bobPages.get('/crates/secret')).body.replace(/secret/g, 'X'),
        'the same answer as a crate that does not exist',
      );
    });

    it('not as a dependency link', async () => {
      const body = (await bobPages.get('/crates/widget')).body;
      assert.doesNotMatch(body, /href="\/crates\/secret"/);
      assert.match(body, /<tr><td>secret<\/td><td><code>\^1<\/code>/, 'the name the dependent wrote, as text');
      assert.match((await admin.get('/crates/widget')).body, /<a href="\/crates\/secret">secret<\/a>/);
    });

    it('not through the API either', async () => {
      const search = JSON.parse((await r.request({ method: 'GET', url: '/api/v1/crates?q=secret', token: bob })).body);
      assert.deepEqual(search, { crates: [], meta: { total: 0 } });
      for (const url of ['/index/se/cr/secret', '/api/v1/crates/secret/owners', '/api/v1/crates/secret/1.0.0/download']) {
        assert.equal((await r.request({ method: 'GET', url, token: bob })).statusCode, 404, url);
      }
    });
  });

  describe('my tokens', () => {
    it('offers every scope, with admin left unticked so that a powerful token is made on purpose', async () => {
      const form = (await bobPages.get('/tokens')).body;
      for (const scope of ['read', 'publish-new', 'publish-update', 'yank', 'change-owners']) {
        assert.match(form, new RegExp(`name="scopes" value="${scope}" checked>`));
      }
      assert.match(form, /name="scopes" value="admin">/);
    });

    it('creates a scoped token shown once with the cargo commands, lists it, and revokes it', async () => {
      const created = await bobPages.post('/tokens', {
        name: 'ci for widget',
        scopes: ['read', 'publish-update'],
        crates: 'widget, widget-*',
        expiry: '30',
      });
      assert.equal(created.statusCode, 201, created.body);
      const token = /<code class="token" id="new-token">(ckt_[^<]+)<\/code>/.exec(created.body)![1]!;
      assert.match(created.body, /cargo login --registry private/);
      assert.match(created.body, /index = "sparse\+http:\/\/registry\.test\/index\/"/);
      assert.equal((await r.request({ method: 'GET', url: '/index/wi/dg/widget', token })).statusCode, 200);
      await r.registry.auth.flushLastUse();

      const list = (await bobPages.get('/tokens')).body;
      assert.doesNotMatch(list, new RegExp(token), 'the secret is never shown again');
      const row = new RegExp(
        `<tr data-token-id="(\\d+)"><td>ci for widget</td><td>read, publish-update</td><td>widget, widget-\\*</td>.*?<td>(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC)</td><td>(\\d{4}[^<]+)</td>`,
        's',
      ).exec(list);
      assert.ok(row, 'listed with scopes, crates, last use and expiry');
      const id = row[1]!;

      const revoked = await bobPages.post(`/tokens/${id}/revoke`);
      assert.equal(revoked.statusCode, 303);
      assert.equal((await r.request({ method: 'GET', url: '/index/wi/dg/widget', token })).statusCode, 401);
      assert.doesNotMatch((await bobPages.get('/tokens')).body, /ci for widget/);
    });

    it("cannot revoke another user's token", async () => {
      const aliceTokens = await r.registry.accounts.listTokens('alice');
      const res = await bobPages.post(`/tokens/${aliceTokens[0]!.id}/revoke`);
      assert.equal(res.statusCode, 404);
      assert.equal((await r.request({ method: 'GET', url: '/index/wi/dg/widget', token: alice })).statusCode, 200);
    });

    it('refuses a bad token request with a message and creates nothing', async () => {
      const before = (await r.registry.accounts.listTokens('bob')).length;
      for (const [fields, message] of [
        [{ name: '', scopes: ['read'], expiry: '7' }, /1 to 100 characters/],
        [{ name: 'x', expiry: '7' }, /at least one scope/],
        [{ name: 'x', scopes: ['root'], expiry: '7' }, /unknown token scope/],
        [{ name: 'x', scopes: ['read'], expiry: 'forever' }, /choose an expiry/],
        [{ name: 'x', scopes: ['read'], crates: 'Not A Pattern!', expiry: '7' }, /pattern/],
      ] as const) {
        const res = await bobPages.post('/tokens', fields as Record<string, string | string[]>);
        assert.equal(res.statusCode, 400, JSON.stringify(fields));
        assert.match(res.body, message);
      }
      assert.equal((await r.registry.accounts.listTokens('bob')).length, before);
    });
  });
});
