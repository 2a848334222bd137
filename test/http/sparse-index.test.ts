import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateToken, hashToken } from '../../src/domain/token.js';
import { publishBodyFor } from '../support/crate-fixture.js';
import { PUBLIC_URL, startTestRegistry, type TestRegistry } from '../support/in-process.js';

describe('sparse index and downloads', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry();
    for (const [name, version] of [
      ['Serde_Like', '1.0.0'],
      ['Serde_Like', '1.1.0'],
      ['ab', '0.1.0'],
    ] as const) {
      await r.publishAsAdmin(name, version);
    }
  });
  after(() => r.close());

  it('config.json needs a token and names dl, api and auth-required', async () => {
    const anonymous = await r.request({ method: 'GET', url: '/index/config.json' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.headers['www-authenticate'], `Cargo login_url="${PUBLIC_URL}/me"`);
    assert.match(JSON.parse(anonymous.body).errors[0].detail, /requires a token/);

    const res = await r.request({ method: 'GET', url: '/index/config.json', token: r.adminToken });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(JSON.parse(res.body), { dl: `${PUBLIC_URL}/api/v1/crates`, api: PUBLIC_URL, 'auth-required': true });
  });

  it('serves index files at lower-case paths with a content ETag and 304', async () => {
    const res = await r.request({ method: 'GET', url: '/index/se/rd/serde_like', token: r.adminToken });
    assert.equal(res.statusCode, 200);
    const lines = res.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l) => l.vers),
      ['1.0.0', '1.1.0'],
    );
    assert.equal(lines[0].name, 'Serde_Like');
    const etag = res.headers.etag as string;
    assert.match(etag, /^"[A-Za-z0-9_-]+"$/);

    const again = await r.request({
      method: 'GET',
      url: '/index/se/rd/serde_like',
      token: r.adminToken,
      headers: { 'if-none-match': etag },
    });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const listed = await r.request({
      method: 'GET',
      url: '/index/se/rd/serde_like',
      token: r.adminToken,
      headers: { 'if-none-match': `"x", W/${etag}` },
    });
    assert.equal(listed.statusCode, 304);

    assert.equal((await r.request({ method: 'GET', url: '/index/2/ab', token: r.adminToken })).statusCode, 200);
  });

  it('answers 404 for unknown crates, wrong prefixes and upper-case paths', async () => {
    for (const url of [
      '/index/no/su/nosuchcrate',
      '/index/xx/yy/serde_like',
      '/index/se/rd/Serde_Like',
      '/index/3/a/ab',
      '/index/../config.json',
    ]) {
      const res = await r.request({ method: 'GET', url, token: r.adminToken });
      assert.equal(res.statusCode, 404, url);
    }
  });

  it('changes the ETag when the content changes (yank)', async () => {
    const before = await r.request({ method: 'GET', url: '/index/se/rd/serde_like', token: r.adminToken });
    const yank = await r.request({ method: 'DELETE', url: '/api/v1/crates/Serde_Like/1.0.0/yank', token: r.adminToken });
    assert.equal(yank.statusCode, 200);
    const after = await r.request({
      method: 'GET',
      url: '/index/se/rd/serde_like',
      token: r.adminToken,
      headers: { 'if-none-match': before.headers.etag as string },
    });
    assert.equal(after.statusCode, 200);
    assert.notEqual(after.headers.etag, before.headers.etag);
    assert.equal(JSON.parse(after.body.split('\n')[0]!).yanked, true);
    await r.request({ method: 'PUT', url: '/api/v1/crates/Serde_Like/1.0.0/unyank', token: r.adminToken });
  });

  it('gzips large index files for clients that accept it', async () => {
    for (let i = 2; i < 12; i++) {
      await r.request({
        method: 'PUT',
        url: '/api/v1/crates/new',
        token: r.adminToken,
        payload: await publishBodyFor('Serde_Like', `1.${i}.0`),
      });
    }
    const plain = await r.request({ method: 'GET', url: '/index/se/rd/serde_like', token: r.adminToken });
    const gz = await r.request({
      method: 'GET',
      url: '/index/se/rd/serde_like',
      token: r.adminToken,
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    const { gunzipSync } = await import('node:zlib');
    assert.equal(gunzipSync(gz.rawPayload).toString(), plain.body);
    assert.equal(plain.headers['content-encoding'], undefined);
  });

  it('downloads the exact .crate bytes without Content-Encoding', async () => {
    const index = await r.request({ method: 'GET', url: '/index/2/ab', token: r.adminToken });
    const cksum = JSON.parse(index.body.trim()).cksum as string;
    const res = await r.request({
      method: 'GET',
      url: '/api/v1/crates/ab/0.1.0/download',
      token: r.adminToken,
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    const { createHash } = await import('node:crypto');
    assert.equal(createHash('sha256').update(res.rawPayload).digest('hex'), cksum);
    assert.equal((await r.request({ method: 'GET', url: '/api/v1/crates/ab/9.9.9/download', token: r.adminToken })).statusCode, 404);
    assert.equal((await r.request({ method: 'GET', url: '/api/v1/crates/ab/0.1.0/download' })).statusCode, 401);
  });

  it('refuses wrong, unknown and revoked tokens with 401', async () => {
    const { token, record } = await r.registry.accounts.createToken('admin', 'to revoke');
    assert.equal((await r.request({ method: 'GET', url: '/index/2/ab', token })).statusCode, 200);
    await r.registry.accounts.revokeToken(record.id);
    for (const bad of [token, 'garbage', 'ckt_' + 'A'.repeat(49), `Bearer ${token}`]) {
      const res = await r.request({ method: 'GET', url: '/index/2/ab', token: bad });
      assert.equal(res.statusCode, 401, bad);
      assert.match(JSON.parse(res.body).errors[0].detail, /token rejected/);
    }
    assert.equal((await r.request({ method: 'GET', url: '/index/2/ab', token: `Bearer ${r.adminToken}` })).statusCode, 200);
  });

  it('refuses an expired token', async () => {
    // The service refuses to create an expired token; the store does not.
    const token = generateToken();
    const admin = (await r.registry.metadata.users.findUserByLogin('admin'))!;
    await r.registry.metadata.tokens.insertToken({
      userId: admin.id,
      name: 'short',
      hash: hashToken(token),
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    const res = await r.request({ method: 'GET', url: '/index/2/ab', token });
    assert.equal(res.statusCode, 401);
    assert.match(JSON.parse(res.body).errors[0].detail, /expired/);
  });

  it('records when a token was last used', async () => {
    const { token, record } = await r.registry.accounts.createToken('admin', 'tracked');
    assert.equal(record.lastUsedAt, null);
    await r.request({ method: 'GET', url: '/index/2/ab', token });
    await r.registry.auth.flushLastUse();
    const listed = (await r.registry.accounts.listTokens('admin')).find((t) => t.id === record.id)!;
    assert.ok(listed.lastUsedAt !== null && Date.now() - Date.parse(listed.lastUsedAt) < 60_000);
  });
});

describe('anonymous reads when auth.required is off', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ 'auth.required': 'false' });
    await r.request({ method: 'PUT', url: '/api/v1/crates/new', token: r.adminToken, payload: await publishBodyFor('open', '1.0.0') });
  });
  after(() => r.close());

  it('serves index, downloads and search without a token, but never writes', async () => {
    const config = await r.request({ method: 'GET', url: '/index/config.json' });
    assert.equal(JSON.parse(config.body)['auth-required'], false);
    assert.equal((await r.request({ method: 'GET', url: '/index/op/en/open' })).statusCode, 200);
    assert.equal((await r.request({ method: 'GET', url: '/api/v1/crates/open/1.0.0/download' })).statusCode, 200);
    assert.equal((await r.request({ method: 'GET', url: '/api/v1/crates?q=open' })).statusCode, 200);
    const publish = await r.request({ method: 'PUT', url: '/api/v1/crates/new', payload: await publishBodyFor('other', '1.0.0') });
    assert.equal(publish.statusCode, 401);
    const yank = await r.request({ method: 'DELETE', url: '/api/v1/crates/open/1.0.0/yank' });
    assert.equal(yank.statusCode, 401);
    assert.equal((await r.request({ method: 'GET', url: '/index/op/en/open', token: 'wrong' })).statusCode, 401);
  });
});
