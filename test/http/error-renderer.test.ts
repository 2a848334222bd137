// The error renderer (src/http/error-mapper.ts) and the zod validator compiler
// (src/http/zod-type-provider.ts) on a bare fastify app: which error becomes which status,
// headers, audit record and body, in cargo's JSON, as a page, or as a sign-in page.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { conflict, forbidden, rateLimited, RegistryError } from '../../src/domain/errors.js';
import type { AuditRecorder } from '../../src/services/audit-recorder.js';
import { apiErrors, pageErrors, signInErrors } from '../../src/http/error-mapper.js';
import { installZodValidation, requestSchema } from '../../src/http/zod-type-provider.js';

function fakeAudit() {
  const records: { action: string; detail?: string; crate?: string }[] = [];
  const audit = {
    record: (action: string, _source: unknown, fields: { detail?: string; crate?: string } = {}) => records.push({ action, ...fields }),
  };
  return { records, audit: audit as unknown as AuditRecorder };
}

function appWith(audit: AuditRecorder): FastifyInstance {
  const app = Fastify({ logger: false });
  app.decorateRequest('principal', null);
  app.decorateRequest('csrf', null);
  app.setErrorHandler(apiErrors({ loginUrl: () => 'http://registry.test/me', audit }));
  installZodValidation(app);
  return app;
}

describe('error renderer', () => {
  it('answers the API in cargo shape, with the login hint on 401 and an audited 403', async () => {
    const { records, audit } = fakeAudit();
    const app = appWith(audit);
    app.get('/api/:name', async () => {
      throw forbidden('publish-not-allowed', 'not yours');
    });
    app.get('/login', async () => {
      throw new RegistryError('unauthenticated', 'token-required', 'send a token');
    });
    const refused = await app.inject({ url: '/api/serde' });
    assert.equal(refused.statusCode, 403);
    assert.deepEqual(JSON.parse(refused.body), { errors: [{ detail: 'not yours' }] });
    assert.deepEqual(records, [{ action: 'access-refused', crate: 'serde', detail: 'not yours' }]);
    const login = await app.inject({ url: '/login' });
    assert.equal(login.statusCode, 401);
    assert.equal(login.headers['www-authenticate'], 'Cargo login_url="http://registry.test/me"');
    await app.close();
  });

  it('shows sign-in refusals as a page with Retry-After and an audit record, and hands other kinds to the API form', async () => {
    const { records, audit } = fakeAudit();
    const app = appWith(audit);
    const errorHandler = signInErrors({ audit });
    app.get('/limited', { errorHandler }, async () => {
      throw rateLimited('rate-limited', 'too many attempts', 30);
    });
    app.get('/clash', { errorHandler }, async () => {
      throw conflict('identity-exists', 'that identity is taken');
    });
    const limited = await app.inject({ url: '/limited' });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.headers['retry-after'], '30');
    assert.match(String(limited.headers['content-type']), /^text\/html/);
    assert.match(limited.body, /<title>Too many sign-in attempts · cratekeeper<\/title>/);
    assert.match(limited.body, /id="problem">too many attempts<\/p>\n<p><a href="\/sign-in">Start again<\/a>/);
    assert.deepEqual(records, [{ action: 'login-failed', detail: 'too many attempts' }]);
    const clash = await app.inject({ url: '/clash' });
    assert.equal(clash.statusCode, 409);
    assert.deepEqual(JSON.parse(clash.body), { errors: [{ detail: 'that identity is taken' }] });
    assert.equal(records.length, 1, 'a refusal the sign-in page does not show is not a failed sign-in');
    await app.close();
  });

  it('shows page errors as pages: not found, refusals audited, a missing session sent to sign in', async () => {
    const { records, audit } = fakeAudit();
    const app = appWith(audit);
    await app.register(async (pages) => {
      pages.setErrorHandler(pageErrors({ audit }));
      pages.get('/gone', async () => {
        throw new RegistryError('not-found', 'no-such-page', 'no such page: /gone');
      });
      pages.get('/mine', async () => {
        throw forbidden('admin-only', 'admins only');
      });
      pages.get('/private', async () => {
        throw new RegistryError('unauthenticated', 'sign-in-required', 'sign in to see this page');
      });
    });
    const gone = await app.inject({ url: '/gone' });
    assert.equal(gone.statusCode, 404);
    assert.match(gone.body, /<h1>Not found<\/h1>\n<p class="refusal" id="problem">no such page: \/gone<\/p>/);
    const mine = await app.inject({ url: '/mine?x=1' });
    assert.equal(mine.statusCode, 403);
    assert.match(mine.body, /<h1>Cannot do that<\/h1>/);
    assert.deepEqual(records, [{ action: 'access-refused', detail: 'page /mine: admins only' }]);
    const priv = await app.inject({ url: '/private' });
    assert.equal(priv.statusCode, 303);
    assert.equal(priv.headers.location, '/sign-in?next=%2Fprivate');
    await app.close();
  });
});

describe('zod validator compiler', () => {
  it('refuses input that fails a route schema with 400, the schema message and its error code', async () => {
    const { audit } = fakeAudit();
    const app = appWith(audit);
    const codes: string[] = [];
    app.addHook('onError', async (_request, _reply, error) => {
      if (error instanceof RegistryError) codes.push(`${error.kind}/${error.code}`);
    });
    const body = requestSchema('invalid-owners-body', z.object({ users: z.array(z.string()).min(1, { error: 'name someone' }) }));
    app.post('/owners', { schema: { body } }, async (request) => ({ got: (request.body as { users: string[] }).users }));
    const refused = await app.inject({ method: 'POST', url: '/owners', payload: { users: [] } });
    assert.equal(refused.statusCode, 400);
    assert.deepEqual(JSON.parse(refused.body), { errors: [{ detail: 'name someone' }] });
    assert.deepEqual(codes, ['invalid/invalid-owners-body']);
    const passed = await app.inject({ method: 'POST', url: '/owners', payload: { users: ['bob'], extra: 1 } });
    assert.deepEqual(JSON.parse(passed.body), { got: ['bob'] });
    await app.close();
  });

  it('refuses to start with a route schema that has no error code', async () => {
    const app = appWith(fakeAudit().audit);
    app.post('/x', { schema: { body: z.object({ a: z.string() }) } }, async () => 'ok');
    await assert.rejects(async () => app.ready(), /the schema for body of POST \/x has no error code/);
    await app.close();
  });

  it('types nothing it is not asked to: a route without a schema gets its input unchecked', async () => {
    const app = appWith(fakeAudit().audit);
    app.post('/free', async (request) => ({ got: request.body }));
    const res = await app.inject({ method: 'POST', url: '/free', payload: { anything: [1] } });
    assert.deepEqual(JSON.parse(res.body), { got: { anything: [1] } });
    await app.close();
  });
});
