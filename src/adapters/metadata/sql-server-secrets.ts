// Shared server secrets in SQL: the first process to ask makes the row, every other one reads it.

import type { ServerSecrets } from '../../ports/server-secrets.js';
import { now } from './sql-rows.js';
import type { SqlScope } from './sql-scope.js';

export class SqlServerSecrets implements ServerSecrets {
  constructor(private readonly scope: SqlScope) {}

  async getOrCreateSecret(name: string, create: () => string): Promise<string> {
    const db = this.scope.db;
    await db
      .insertInto('server_secrets')
      .values({ name, value: create(), created_at: now() })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const row = await db.selectFrom('server_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
    return row.value;
  }
}
