// Request checks declared as zod route schemas (src/http/schemas/): a bad body, id or query is
// refused with 400 and the message written for the person running cargo, and the refusals that
// came before the check (a narrow token, a forged form) still come first.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';
import { signInWithToken, type PageSession } from '../support/web-session.js';

const detail = (res: LightMyRequestResponse) => (JSON.parse(res.body) as { errors: { detail: string }[] }).errors[0]!.detail;

describe('request schemas', () => {
  let r: TestRegistry;
  let narrow: string;
  let pages: PageSession;

  before(async () => {
    r = await startTestRegistry();
    narrow = (await r.registry.accounts.createToken('admin', 'narrow', { scopes: ['read'] })).token;
    pages = await signInWithToken(r, r.adminToken);
  });
  after(() => r.close());

  const createToken = (payload: string, token = r.adminToken) =>
    r.request({ method: 'POST', url: '/api/v1/me/tokens', token, payload, headers: { 'content-type': 'application/json' } });

  it('refuses a token request that is not JSON, or lacks a name, naming what to send', async () => {
    const notJson = await createToken('{name');
    assert.equal(notJson.statusCode, 400);
    assert.equal(detail(notJson), 'the body must be JSON: {"name": "...", "scopes": [...], "crates": [...], "expires_at": "..."}');
    for (const body of ['{}', '{"name": 5}', 'null', '"laptop"', '[]', '{"expires_at": "soon"}']) {
      const res = await createToken(body);
      assert.equal(res.statusCode, 400, body);
      assert.equal(detail(res), '`name` is required and must be a string', body);
    }
  });

  it('refuses a bad expiry, scope list or crate list with the field in the message', async () => {
    const cases: [string, string][] = [
      ['{"name": "x", "expires_at": "soon"}', '`expires_at` must be an ISO 8601 date'],
      ['{"name": "x", "expires_at": 1700000000}', '`expires_at` must be an ISO 8601 date'],
      ['{"name": "x", "scopes": "read"}', '`scopes` must be a list of strings'],
      ['{"name": "x", "scopes": [1]}', '`scopes` must be a list of strings'],
      ['{"name": "x", "crates": {"a": 1}}', '`crates` must be a list of strings'],
      ['{"name": "x", "scopes": "read", "crates": 1}', '`scopes` must be a list of strings'],
    ];
    for (const [body, message] of cases) {
      const res = await createToken(body);
      assert.equal(res.statusCode, 400, body);
      assert.equal(detail(res), message, body);
    }
  });

  it('passes a valid request on, with null fields meaning none and the expiry as a date', async () => {
    const res = await createToken('{"name": "ci", "scopes": null, "crates": ["a-*"], "expires_at": "2999-01-02T00:00:00Z"}');
    assert.equal(res.statusCode, 201, res.body);
    const token = (JSON.parse(res.body) as { token: Record<string, unknown> }).token;
    assert.equal(token.name, 'ci');
    assert.equal(token.scopes, null);
    assert.deepEqual(token.crates, ['a-*']);
    assert.equal(token.expires_at, '2999-01-02T00:00:00.000Z');
  });

  it('refuses a narrow token before looking at its body or the token id', async () => {
    const res = await createToken('{name', narrow);
    assert.equal(res.statusCode, 403);
    assert.equal(detail(res), 'managing tokens needs a token with every scope and every crate');
    const revoke = await r.request({ method: 'DELETE', url: '/api/v1/me/tokens/abc', token: narrow });
    assert.equal(revoke.statusCode, 403);
  });

  it('refuses a token id that is not a number', async () => {
    const res = await r.request({ method: 'DELETE', url: '/api/v1/me/tokens/12a', token: r.adminToken });
    assert.equal(res.statusCode, 400);
    assert.equal(detail(res), 'a token id is a number');
  });

  it('refuses an owners body that is not JSON or names nobody', async () => {
    const owners = (payload: string) =>
      r.request({
        method: 'PUT',
        url: '/api/v1/crates/anything/owners',
        token: r.adminToken,
        payload,
        headers: { 'content-type': 'text/plain' },
      });
    assert.equal(detail(await owners('users=bob')), 'the request body must be JSON of the form {"users":["login", ...]}');
    for (const body of ['{"users": []}', '{"users": [1]}', '{"users": "bob"}', '{}', '[]', 'null']) {
      const res = await owners(body);
      assert.equal(res.statusCode, 400, body);
      assert.equal(detail(res), 'the request body must be JSON of the form {"users":["login", ...]} with at least one login', body);
    }
  });

  it('refuses a trusted-publishing exchange without an ID token, before it counts as a failure', async () => {
    for (const payload of [{}, { id_token: '' }, { id_token: 7 }]) {
      const res = await r.request({ method: 'POST', url: '/api/v1/trusted_publishing/tokens', payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(detail(res), 'send a JSON body {"id_token": "<the ID token your CI platform issued>"}');
    }
  });

  it('shows a bad token id on the page as a refusal, and a forged form as forged first', async () => {
    const res = await pages.post('/tokens/abc/revoke');
    assert.equal(res.statusCode, 400);
    assert.match(res.body, /id="problem">a token id is a number</);
    const forged = await pages.post('/tokens/abc/revoke', { csrf: 'forged' });
    assert.equal(forged.statusCode, 403);
    assert.match(forged.body, /this form expired or did not come from this registry/);
  });
});
