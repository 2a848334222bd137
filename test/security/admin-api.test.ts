// Admin data needs an administrator's unrestricted token, or one with the explicit `admin` scope
// and no crate patterns: a token an admin narrowed for CI (`--scopes read --crates 'foo-*'`)
// reads no audit log, as JSON or as CSV.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../support/in-process.js';

describe('the administration API and narrowed tokens', () => {
  let r: TestRegistry;
  const token = async (scopes?: string[], cratePatterns?: string[]) =>
    (await r.registry.accounts.createToken('admin', 'narrow', { scopes, cratePatterns })).token;
  const audit = (t: string, format = '') => r.request({ method: 'GET', url: `/api/v1/admin/audit${format}`, token: t });

  before(async () => {
    r = await startTestRegistry();
  });
  after(() => r.close());

  it('refuses an admin token narrowed by scopes or crate patterns', async () => {
    for (const t of [
      await token(['read'], ['foo-*']),
      await token(['read']),
      await token(['read', 'publish-new', 'publish-update', 'yank', 'change-owners']),
      await token(['admin'], ['foo-*']),
    ]) {
      for (const format of ['', '?format=csv']) {
        const res = await audit(t, format);
        assert.equal(res.statusCode, 403, res.body);
        assert.match(
          JSON.parse(res.body).errors[0].detail,
          /needs a token with the `admin` scope \(or every scope\) and no crate patterns/,
        );
      }
    }
  });

  it('lets an unrestricted admin token, or one with the admin scope, read it', async () => {
    for (const t of [r.adminToken, await token(['admin']), await token(['read', 'admin'])]) {
      assert.equal((await audit(t)).statusCode, 200);
      const csv = await audit(t, '?format=csv');
      assert.equal(csv.statusCode, 200);
      assert.match(csv.body, /^id,at,action/);
    }
  });

  it('never gives the admin scope to a non-admin', async () => {
    await r.registry.accounts.addUser('dave', false);
    const dave = (await r.registry.accounts.createToken('dave', 'admin?', { scopes: ['admin'] })).token;
    const res = await audit(dave);
    assert.equal(res.statusCode, 403);
    assert.match(JSON.parse(res.body).errors[0].detail, /only administrators may read the audit log/);
  });
});
