// The admin pages: users and groups, access rules, the audit log with filters, paging and CSV;
// only for global admins (404 for anyone else signed in), and every value escaped.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { signInWithToken, type PageSession } from '../support/web-session.js';

const RULES = `[[access.rules]]
crates = ["secret*"]
read = ["group:core"]
publish = []

[[access.rules]]
crates = ["internal-*"]
admins = ["lead", "group:ops"]
`;
const EVIL_AGENT = '<script>alert("ua")</script>';
const EVIL_CRATE = '<script>alert("crate")</script>';
const ADMIN_PATHS = ['/admin', '/admin/users', '/admin/access', '/admin/audit', '/admin/audit.csv'];

const unescape = (text: string) => text.replaceAll('&#38;', '&');
const rows = (body: string) => body.match(/<tr data-event-id="\d+">[\s\S]*?<\/tr>/g) ?? [];
const linkOf = (body: string, rel: string) => {
  const match = new RegExp(`<a href="([^"]+)" rel="${rel}">`).exec(body);
  return match ? unescape(match[1]!) : undefined;
};

describe('admin pages', () => {
  let r: TestRegistry;
  let admin: PageSession;
  let bob: PageSession;
  let aliceTokenId: number;

  before(async () => {
    r = await startTestRegistry({}, RULES);
    await r.registry.accounts.addUser('alice', false);
    const alice = await r.registry.accounts.createToken('alice', 'laptop');
    aliceTokenId = alice.record.id;
    await r.registry.accounts.addGroupMember('core', 'alice');
    await r.registry.accounts.setPassword('alice', 'not-a-real-hash');
    const published = await r.request({
      method: 'PUT',
      url: '/api/v1/crates/new',
      token: alice.token,
      payload: await publishBodyFor('widget', '1.0.0'),
    });
    assert.equal(published.statusCode, 200, published.body);
    for (let i = 0; i < 3; i++) {
      const res = await r.request({
        method: 'GET',
        url: '/api/v1/crates/widget/1.0.0/download',
        token: alice.token,
        headers: { 'user-agent': EVIL_AGENT },
      });
      assert.equal(res.statusCode, 200);
    }
    await r.registry.auditLog.append([
      {
        at: new Date().toISOString(),
        action: 'access-refused',
        userLogin: 'alice',
        tokenId: null,
        crate: EVIL_CRATE,
        version: null,
        clientIp: null,
        userAgent: null,
        detail: '<b>x</b>',
        count: 1,
      },
    ]);
    admin = await signInWithToken(r, r.adminToken);
    bob = await signInWithToken(r, await r.userToken('bob'));
    await r.registry.audit.flush();
  });
  after(() => r.close());

  it('the index links the three pages', async () => {
    const res = await admin.get('/admin');
    assert.equal(res.statusCode, 200);
    for (const path of ['/admin/users', '/admin/access', '/admin/audit']) assert.ok(res.body.includes(`href="${path}"`), path);
  });

  it('lists users with their sign-in methods, groups and tokens, and groups with their members', async () => {
    const res = await admin.get('/admin/users');
    assert.equal(res.statusCode, 200);
    const alice = /<tr data-login="alice">([\s\S]*?)<\/tr>/.exec(res.body)?.[1] ?? '';
    assert.match(alice, /<th scope="row">alice<\/th><td>no<\/td>/);
    assert.match(alice, /password/);
    assert.match(alice, /core <span class="muted">\(local\)<\/span>/);
    assert.match(alice, /<td>1<\/td>$/, 'one active token');
    assert.match(/<tr data-login="admin">[\s\S]*?<\/tr>/.exec(res.body)?.[0] ?? '', /<strong>admin<\/strong>/);
    assert.match(/<tr data-login="bob">[\s\S]*?<\/tr>/.exec(res.body)?.[0] ?? '', /tokens only/);
    assert.match(
      res.body,
      /<tr data-group="core"><th scope="row">core<\/th><td>alice <span class="muted">\(local\)<\/span> <form class="inline" method="post" action="\/admin\/groups\/remove-member">/,
    );
    assert.match(res.body, /<tr data-group="ops">[\s\S]*?no members/);
    assert.match(res.body, /<caption>/);
  });

  it('shows the access rules in order, as the policy applies them', async () => {
    const res = await admin.get('/admin/access');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Signing in is required/);
    assert.match(res.body, /first rule/);
    assert.match(res.body, /A crate that no rule matches is open to every signed-in user/);
    const rule1 = /<tr data-rule="1">[\s\S]*?<\/tr>/.exec(res.body)?.[0] ?? '';
    const rule2 = /<tr data-rule="2">[\s\S]*?<\/tr>/.exec(res.body)?.[0] ?? '';
    assert.match(
      rule1,
      /<code>secret\*<\/code>[\s\S]*<code>group:core<\/code>[\s\S]*<strong>nobody<\/strong>[\s\S]*nobody beyond each crate&#39;s owners/,
    );
    assert.match(
      rule2,
      /<code>internal-\*<\/code>[\s\S]*everyone signed in[\s\S]*everyone signed in[\s\S]*<code>lead<\/code>, <code>group:ops<\/code>/,
    );
    assert.ok(res.body.indexOf('data-rule="1"') < res.body.indexOf('data-rule="2"'));
  });

  it('finds who downloaded a version, with which token', async () => {
    const res = await admin.get('/admin/audit?crate=widget&action=download');
    assert.equal(res.statusCode, 200);
    const found = rows(res.body);
    assert.equal(found.length, 3);
    for (const row of found) {
      assert.match(row, /<td>download<\/td>/);
      assert.match(row, />alice<\/a>/);
      assert.ok(row.includes(`<td class="token-id">${aliceTokenId}</td>`), row);
      assert.match(row, /<td>1\.0\.0<\/td>/);
    }
    assert.match(res.body, /<option value="download" selected>/);
    assert.match(res.body, /id="audit-crate" name="crate" value="widget"/);
  });

  it('filters by user and time', async () => {
    const bobs = await admin.get('/admin/audit?crate=widget&user=bob');
    assert.equal(rows(bobs.body).length, 0);
    assert.match(bobs.body, /No events match\./);
    const old = await admin.get('/admin/audit?since=2000-01-01&until=2000-01-02T00:00:00Z');
    assert.equal(old.statusCode, 200);
    assert.equal(rows(old.body).length, 0);
    const recent = await admin.get('/admin/audit?user=alice&since=1h&action=&crate=');
    assert.ok(rows(recent.body).length >= 5, 'publish, three downloads, the appended refusal');
  });

  it('pages, keeping the filters', async () => {
    const first = await admin.get('/admin/audit?crate=widget&action=download&limit=1');
    assert.equal(rows(first.body).length, 1);
    assert.match(first.body, /Events 1–1 of 3/);
    assert.equal(linkOf(first.body, 'prev'), undefined);
    const next = linkOf(first.body, 'next')!;
    assert.equal(next, '/admin/audit?crate=widget&action=download&offset=1&limit=1');
    const second = await admin.get(next);
    assert.match(second.body, /Events 2–2 of 3/);
    assert.notEqual(rows(second.body)[0], rows(first.body)[0]);
    assert.equal(linkOf(second.body, 'prev'), '/admin/audit?crate=widget&action=download&offset=0&limit=1');
    const last = await admin.get(linkOf(second.body, 'next')!);
    assert.match(last.body, /Events 3–3 of 3/);
    assert.equal(linkOf(last.body, 'next'), undefined);
  });

  it('shows a bad filter as a message on the page, with status 400', async () => {
    const since = await admin.get('/admin/audit?since=yesterday&crate=widget');
    assert.equal(since.statusCode, 400);
    assert.match(since.body, /id="problem" role="alert">`since` must be a date \(ISO 8601\) or a duration such as 7d/);
    assert.match(since.body, /id="audit-filters"/);
    assert.match(since.body, /name="since" value="yesterday"/);
    assert.equal((await admin.get('/admin/audit?action=steal')).statusCode, 400);
    assert.equal((await admin.get('/admin/audit?offset=-1')).statusCode, 400);
    assert.equal((await admin.get('/admin/audit?limit=0')).statusCode, 400);
  });

  it('downloads the same query as CSV on the session', async () => {
    const page = await admin.get('/admin/audit?crate=widget&action=download');
    assert.match(page.body, /id="csv-link" href="\/admin\/audit\.csv\?crate=widget&#38;action=download"/);
    const csv = await admin.get('/admin/audit.csv?crate=widget&action=download');
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(String(csv.headers['content-disposition']), /^attachment; filename="cratekeeper-audit\.csv"$/);
    const lines = csv.body.trim().split('\n');
    assert.equal(lines[0], 'id,at,action,user,token_id,crate,version,client_ip,user_agent,count,detail');
    assert.equal(lines.length, 4);
    for (const line of lines.slice(1)) assert.ok(line.includes(`,download,alice,${aliceTokenId},widget,1.0.0,`), line);
    assert.equal((await admin.get('/admin/audit.csv?until=soon')).statusCode, 400);
  });

  it('exports more than one API page of events as CSV', async () => {
    const at = new Date().toISOString();
    const many = Array.from({ length: 1005 }, (_, i) => ({
      at,
      action: 'login' as const,
      userLogin: 'many',
      tokenId: i,
      crate: null,
      version: null,
      clientIp: null,
      userAgent: null,
      detail: null,
      count: 1,
    }));
    await r.registry.auditLog.append(many);
    const csv = await admin.get('/admin/audit.csv?user=many&action=login');
    const ids = csv.body
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[0]);
    assert.equal(ids.length, 1005);
    assert.equal(new Set(ids).size, 1005);
  });

  it('escapes everything the audit log holds', async () => {
    const byAgent = await admin.get('/admin/audit?crate=widget&action=download');
    assert.ok(!byAgent.body.includes(EVIL_AGENT));
    assert.ok(byAgent.body.includes('&#60;script&#62;alert(&#34;ua&#34;)&#60;/script&#62;'));
    const byCrate = await admin.get(`/admin/audit?crate=${encodeURIComponent(EVIL_CRATE)}`);
    assert.equal(rows(byCrate.body).length, 1);
    assert.ok(!byCrate.body.includes('<script>alert'));
    assert.ok(!byCrate.body.includes('<b>x</b>'));
    assert.ok(byCrate.body.includes('&#60;script&#62;alert(&#34;crate&#34;)&#60;/script&#62;'));
  });

  it('is "not found" for anyone signed in who is not a global admin', async () => {
    for (const path of ADMIN_PATHS) {
      const res = await bob.get(path);
      assert.equal(res.statusCode, 404, path);
      assert.match(res.body, /Not found/);
      assert.ok(!res.body.includes('href="/admin'), path);
    }
  });

  it('adds users and manages local group members, audited, and says what it did', async () => {
    const added = await admin.post('/admin/users', { login: 'dora', admin: 'yes' });
    assert.equal(added.statusCode, 303);
    const list = await admin.get(String(added.headers.location));
    assert.match(list.body, /<p class="notice" role="status" id="notice">Added user dora as a global administrator\.<\/p>/);
    assert.equal((await r.registry.metadata.users.findUserByLogin('dora'))?.isAdmin, true);

    assert.equal((await admin.post('/admin/groups/add-member', { group: 'release', login: 'dora' })).statusCode, 303);
    assert.deepEqual(
      (await r.registry.accounts.listGroupMembers('release')).map((u) => u.login),
      ['dora'],
    );
    const withGroup = (await admin.get('/admin/users')).body;
    assert.match(
      withGroup,
      /<tr data-group="release"><th scope="row">release<\/th><td>dora <span class="muted">\(local\)<\/span> <form class="inline" method="post" action="\/admin\/groups\/remove-member">/,
    );
    const removed = await admin.post('/admin/groups/remove-member', { group: 'release', login: 'dora' });
    assert.equal(removed.headers.location, '/admin/users?done=Removed+dora+from+release.');
    assert.deepEqual(await r.registry.accounts.listGroupMembers('release'), []);

    await r.registry.audit.flush();
    const events = JSON.parse(
      (await r.request({ method: 'GET', url: '/api/v1/admin/audit?user=admin&since=1h', token: r.adminToken })).body,
    ).events as { action: string; detail: string }[];
    assert.deepEqual(
      events.filter((e) => e.action.startsWith('user-') || e.action.startsWith('group-')).map((e) => `${e.action} ${e.detail}`),
      ['group-member-remove dora from release (web)', 'group-member-add dora to release (web)', 'user-add dora (admin) (web)'],
    );
  });

  it('refuses bad user and group changes with a message, changing nothing', async () => {
    const before = (await r.registry.catalog.users()).length;
    for (const [path, fields, message] of [
      ['/admin/users', { login: 'alice' }, /a user named `alice` already exists/],
      ['/admin/users', { login: 'no spaces!' }, /is not a valid user name/],
      ['/admin/groups/add-member', { group: 'core', login: 'nobody-here' }, /there is no user `nobody-here`/],
      ['/admin/groups/add-member', { group: 'bad group!', login: 'alice' }, /is not a valid group name/],
    ] as const) {
      const res = await admin.post(path, fields);
      assert.ok(res.statusCode === 400 || res.statusCode === 404 || res.statusCode === 409, `${path} ${res.statusCode}`);
      assert.match(res.body, message);
    }
    assert.equal((await r.registry.catalog.users()).length, before);
    assert.deepEqual(
      (await r.registry.accounts.listGroupMembers('core')).map((u) => u.login),
      ['alice'],
    );
  });

  it('lets no one else change users or groups, with or without a CSRF token', async () => {
    assert.equal((await bob.post('/admin/users', { login: 'mallory', admin: 'yes' })).statusCode, 404);
    assert.equal((await bob.post('/admin/groups/add-member', { group: 'core', login: 'bob' })).statusCode, 404);
    assert.equal((await admin.post('/admin/users', { login: 'mallory', csrf: bob.csrf })).statusCode, 403);
    assert.equal(await r.registry.metadata.users.findUserByLogin('mallory'), undefined);
    assert.deepEqual(
      (await r.registry.accounts.listGroupMembers('core')).map((u) => u.login),
      ['alice'],
    );
  });

  it('sends an anonymous visitor to sign in', async () => {
    for (const path of ADMIN_PATHS) {
      const res = await r.request({ method: 'GET', url: path });
      assert.equal(res.statusCode, 303, path);
      assert.equal(res.headers.location, `/sign-in?next=${encodeURIComponent(path)}`);
    }
  });
});

describe('admin pages when auth.required is off', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ 'auth.required': 'false' });
  });
  after(() => r.close());

  it('still sends an anonymous visitor to sign in', async () => {
    const res = await r.request({ method: 'GET', url: '/admin/audit?crate=x' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `/sign-in?next=${encodeURIComponent('/admin/audit?crate=x')}`);
  });

  it('says that reading needs no sign-in', async () => {
    const res = await (await signInWithToken(r, r.adminToken)).get('/admin/access');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /Signing in is not required/);
    assert.match(res.body, /No access rules are configured: every crate is open to everyone/);
  });
});
