// Text with a NUL character on a real PostgreSQL 15, which cannot hold one in `text`: whichever
// repository a request's value reaches, the database's refusal is the request's fault (a 400 with
// `text-with-nul`), not a server error, and nothing of the statement is kept. The places that take
// free text refuse it earlier by name (the publish metadata, the search query: their own tests).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/domain/errors.js';
import { openPostgresDatabase } from '../../src/adapters/metadata/postgres.js';
import { postgresServerForTests } from '../support/postgres-for-tests.js';

const isTextWithNul = (error: unknown) =>
  error instanceof RegistryError &&
  error.kind === 'invalid' &&
  error.code === 'text-with-nul' &&
  /contains a NUL character \(\\u0000\)/.test(error.message);

describe('PostgreSQL: text with a NUL character', () => {
  const postgres = postgresServerForTests();

  it("is refused as the request's fault, and nothing is written", async () => {
    const registry = await openPostgresDatabase(await postgres().createDatabase(), { migrations: 'apply' });
    try {
      await registry.users.createUser('alice', false);
      await assert.rejects(registry.users.createUser('bob\u0000', false), isTextWithNul);
      await assert.rejects(registry.users.findUserByLogin('alice\u0000'), isTextWithNul);
      await assert.rejects(registry.search.searchCrates('a\u0000', 10, 0), isTextWithNul);
      assert.equal(await registry.users.countUsers(), 1);
      // The connection that met the refusal is still good.
      assert.equal((await registry.users.findUserByLogin('alice'))?.login, 'alice');
    } finally {
      await registry.close();
    }
  });
});
