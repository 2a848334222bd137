// A database with the schema as it was before a migration: the earlier migrations applied and
// recorded as `migrate` records them, so that a test can write rows the old way and then upgrade.

import type { Kysely } from 'kysely';
import type { MIGRATIONS, SqlDialectName } from '../../src/adapters/metadata/migrations.js';

export async function migrateBefore(
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- an older schema than the typed one
  db: Kysely<any>,
  dialect: SqlDialectName,
  version: number,
  migrations: typeof MIGRATIONS,
): Promise<void> {
  await db.schema
    .createTable('schema_migrations')
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  for (const migration of migrations.filter((m) => m.version < version)) {
    await db.transaction().execute(async (tx) => {
      await migration.up(tx as unknown as Parameters<typeof migration.up>[0], dialect);
      await tx.insertInto('schema_migrations').values({ version: migration.version, applied_at: new Date().toISOString() }).execute();
    });
  }
}
