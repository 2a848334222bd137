// Schema migrations, in order. Each is written with Kysely's schema builder so that it runs on
// every supported database; `dialect` covers the few places where they differ (auto ids).

import type { Kysely } from 'kysely';
import type { Database } from './sql-schema.js';

export type SqlDialectName = 'sqlite' | 'postgres';

interface Migration {
  version: number;
  up(db: Kysely<Database>, dialect: SqlDialectName): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema builder's column callback type
const autoId = (dialect: SqlDialectName) => (dialect === 'sqlite' ? 'integer' : 'serial') as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idColumn = (dialect: SqlDialectName) => (c: any) =>
  dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey();

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    async up(db, dialect) {
      await db.schema
        .createTable('users')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('login', 'text', (c) => c.notNull().unique())
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('tokens_user').on('tokens').column('user_id').execute();
      await db.schema
        .createTable('crates')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_lower', 'text', (c) => c.notNull().unique())
        .addColumn('name_normalized', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('versions')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('crate_id', 'integer', (c) => c.notNull().references('crates.id'))
        .addColumn('vers', 'text', (c) => c.notNull())
        .addColumn('vers_key', 'text', (c) => c.notNull())
        .addColumn('entry_json', 'text', (c) => c.notNull())
        .addColumn('details_json', 'text', (c) => c.notNull())
        .addColumn('yanked', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('cksum', 'text', (c) => c.notNull())
        .addColumn('published_by', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('versions_crate_vers_key', ['crate_id', 'vers_key'])
        .execute();
      await db.schema.createIndex('versions_crate_vers').on('versions').columns(['crate_id', 'vers']).execute();
      await db.schema
        .createTable('crate_owners')
        .addColumn('crate_id', 'integer', (c) => c.notNull().references('crates.id'))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('crate_owners_pk', ['crate_id', 'user_id'])
        .execute();
      await db.schema
        .createTable('changes')
        .addColumn('seq', autoId(dialect), idColumn(dialect))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 2,
    async up(db) {
      // Token scopes and crate patterns as JSON arrays; null means every scope / every crate.
      await db.schema.alterTable('tokens').addColumn('scopes', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('crate_patterns', 'text').execute();
      await db.schema
        .createTable('group_members')
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('group_members_pk', ['group_name', 'user_id'])
        .execute();
      await db.schema.createIndex('group_members_user').on('group_members').column('user_id').execute();
    },
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function currentSchemaVersion(db: Kysely<Database>): Promise<number> {
  const exists = await db.introspection.getTables().then((t) => t.some((x) => x.name === 'schema_migrations'));
  if (!exists) return 0;
  const row = await db
    .selectFrom('schema_migrations')
    .select((eb) => eb.fn.max('version').as('v'))
    .executeTakeFirst();
  return Number(row?.v ?? 0);
}

/** Applies every migration newer than the database's schema, each in its own transaction. */
export async function migrate(db: Kysely<Database>, dialect: SqlDialectName): Promise<number> {
  await db.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  const current = await currentSchemaVersion(db);
  if (current > LATEST_SCHEMA_VERSION) {
    throw new Error(
      `the database schema is at version ${current}, newer than this cratekeeper knows (${LATEST_SCHEMA_VERSION}); upgrade cratekeeper`,
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= current) continue;
    await db.transaction().execute(async (tx) => {
      await migration.up(tx, dialect);
      await tx
        .insertInto('schema_migrations')
        .values({ version: migration.version, applied_at: new Date().toISOString() })
        .execute();
    });
  }
  return LATEST_SCHEMA_VERSION;
}
