// Schema migrations, in order. Each is written with Kysely's schema builder so that it runs on
// every supported database; `dialect` covers the few places where they differ (auto ids).

import { sql, type Kysely } from 'kysely';
import { noProgress, type OnProgress } from '../../domain/progress.js';
import type { SchemaState } from '../../ports/metadata-database.js';
import { rebuildDownloadTotals, rebuildVersionDownloadTotals } from './download-totals.js';
import { rebuildIndexFiles } from './sql-index-files.js';
import { rebuildMaxVersions } from './sql-max-version.js';
import type { Database } from './sql-schema.js';

export type SqlDialectName = 'sqlite' | 'postgres';

interface Migration {
  version: number;
  /** A migration that rewrites many rows reports its progress through `onProgress`; none prints. */
  up(db: Kysely<Database>, dialect: SqlDialectName, onProgress?: OnProgress): Promise<void>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema builder's column callback type
const autoId = (dialect: SqlDialectName) => (dialect === 'sqlite' ? 'integer' : 'serial') as any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idColumn = (dialect: SqlDialectName) => (c: any) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey());

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
  {
    version: 3,
    async up(db) {
      // Identity: local passwords (argon2 hashes), provider identities keyed by (issuer, sub),
      // where a group membership came from, where a token came from, the ID tokens (jti) already
      // traded for publish tokens, and secrets shared by every replica (the login cookie key).
      await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();
      await db.schema
        .createTable('user_identities')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_identities_pk', ['issuer', 'subject'])
        .execute();
      await db.schema
        .alterTable('group_members')
        .addColumn('source', 'text', (c) => c.notNull().defaultTo('local'))
        .execute();
      await db.schema.alterTable('tokens').addColumn('origin', 'text').execute();
      await db.schema
        .createTable('used_id_tokens')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('used_id_tokens_pk', ['issuer', 'jti'])
        .execute();
      await db.schema
        .createTable('server_secrets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 4,
    async up(db) {
      // Rate limits shared by every process and replica on this database: one row per limiter,
      // minute and key (services/shared-rate-limiter.ts).
      await db.schema
        .createTable('rate_limit_counts')
        .addColumn('limiter', 'text', (c) => c.notNull())
        .addColumn('window_start', 'integer', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_limit_counts_pk', ['limiter', 'window_start', 'key'])
        .execute();
    },
  },
  {
    version: 5,
    async up(db, dialect) {
      // The audit log (services/audit-recorder.ts): one row per action, index reads per hour.
      await db.schema
        .createTable('audit_events')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('user_login', 'text')
        .addColumn('token_id', 'integer')
        .addColumn('crate', 'text')
        .addColumn('version', 'text')
        .addColumn('client_ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('detail', 'text')
        .addColumn('count', 'integer', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
      await db.schema.createIndex('audit_events_crate_at').on('audit_events').columns(['crate', 'at']).execute();
    },
  },
  {
    version: 6,
    async up(db) {
      // Groups that own crates (`cargo owner --add group:NAME`): every member is an owner.
      await db.schema
        .createTable('crate_owner_groups')
        .addColumn('crate_id', 'integer', (c) => c.notNull().references('crates.id'))
        .addColumn('group_name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('crate_owner_groups_pk', ['crate_id', 'group_name'])
        .execute();
    },
  },
  {
    version: 7,
    async up(db) {
      // Downloads per crate version and UTC day (services/download-counter.ts adds to them in
      // batches). Keyed by the lower-case crate name, not crates.id: counts are plain history.
      await db.schema
        .createTable('version_downloads')
        .addColumn('crate', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('version_downloads_pk', ['crate', 'version', 'day'])
        .execute();
    },
  },
  {
    version: 8,
    async up(db, dialect, onProgress) {
      // Indexed search (adapters/metadata/sql-search-match.ts), ordered by downloads: each crate's
      // total downloads (kept by sql-download-counts.ts, summed here from the history), an index to
      // list crates by it, and a trigram index over names and descriptions, built for existing crates.
      await db.schema
        .alterTable('crates')
        .addColumn('downloads', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      // Filled a page of crates at a time, reporting progress (one statement once: same totals).
      await rebuildDownloadTotals(db, onProgress ?? noProgress);
      await sql`create index crates_downloads on crates (downloads desc, name_lower)`.execute(db);
      // What ranking reads of each match, without the wide rows (descriptions): SQLite ranks from it.
      await sql`create index crates_search_rank on crates (id, name_normalized, downloads, name_lower)`.execute(db);
      if (dialect === 'sqlite') {
        // An external-content FTS5 table: it indexes the crates table's own columns, kept in step
        // by triggers (a change of downloads touches neither).
        await sql`create virtual table crate_search using fts5(
          name_normalized, description, content = 'crates', content_rowid = 'id', tokenize = 'trigram')`.execute(db);
        await sql`create trigger crate_search_insert after insert on crates begin
          insert into crate_search (rowid, name_normalized, description) values (new.id, new.name_normalized, new.description);
        end`.execute(db);
        await sql`create trigger crate_search_delete after delete on crates begin
          insert into crate_search (crate_search, rowid, name_normalized, description)
            values ('delete', old.id, old.name_normalized, old.description);
        end`.execute(db);
        await sql`create trigger crate_search_update after update of name_normalized, description on crates begin
          insert into crate_search (crate_search, rowid, name_normalized, description)
            values ('delete', old.id, old.name_normalized, old.description);
          insert into crate_search (rowid, name_normalized, description) values (new.id, new.name_normalized, new.description);
        end`.execute(db);
        await sql`insert into crate_search (crate_search) values ('rebuild')`.execute(db);
      } else {
        // pg_trgm is a trusted extension: the database's owner (or any role with CREATE on it) may add it.
        await sql`create extension if not exists pg_trgm`.execute(db);
        await sql`create index crates_name_trgm on crates using gin (name_normalized gin_trgm_ops)`.execute(db);
        await sql`create index crates_description_trgm on crates using gin ((lower(coalesce(description, ''))) gin_trgm_ops)`.execute(db);
      }
    },
  },
  {
    version: 9,
    async up(db, dialect) {
      // Terminal sign-in (services/device-flow.ts): device authorizations (RFC 8628), the device
      // sessions they start, their rotating refresh tokens, access tokens tied to a session, the
      // provider grants of browser sign-ins made to approve a device, and disabled accounts.
      await db.schema.alterTable('users').addColumn('disabled_at', 'text').execute();
      await db.schema
        .createTable('device_authorizations')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('device_code_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_code', 'text', (c) => c.notNull().unique())
        .addColumn('client_address', 'text', (c) => c.notNull())
        .addColumn('device_name', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.references('users.id'))
        .addColumn('provider_refresh_token', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_poll_at', 'text')
        .addColumn('interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('consumed_at', 'text')
        .execute();
      await db.schema
        .createTable('device_sessions')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('client_address', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_refresh_at', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .addColumn('provider_refresh_token', 'text')
        .execute();
      await db.schema.createIndex('device_sessions_user').on('device_sessions').column('user_id').execute();
      await db.schema
        .createTable('device_refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'integer', (c) => c.notNull().references('device_sessions.id'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema.alterTable('tokens').addColumn('device_session_id', 'integer').execute();
      await db.schema.createIndex('tokens_device_session').on('tokens').column('device_session_id').execute();
      await db.schema
        .createTable('provider_grants')
        .addColumn('session_token_id', 'integer', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id'))
        .addColumn('refresh_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 10,
    async up(db, dialect) {
      // Supply-chain policy (src/policy/): settings edited at run time per source, administrators'
      // holds and early releases, and the first sighting of each upstream version (the quarantine's
      // clock when the upstream gives no pubtime; written once, never updated).
      await db.schema
        .createTable('policy_settings')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .addPrimaryKeyConstraint('policy_settings_pk', ['source', 'key'])
        .execute();
      await db.schema
        .createTable('policy_exceptions')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('source', 'text')
        .addColumn('crate', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .execute();
      await db.schema
        .createTable('policy_first_seen')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('crate', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('first_seen_at', 'text', (c) => c.notNull())
        .addColumn('pubtime', 'text')
        .addPrimaryKeyConstraint('policy_first_seen_pk', ['source', 'crate', 'version'])
        .execute();
    },
  },
  {
    version: 11,
    async up(db, dialect) {
      // RustSec advisories (services/advisory-sync.ts), kept per source they were synced for
      // ('local' or 'upstream:<name>'): a sync replaces one source's rows in one transaction and
      // adds a row to advisory_syncs, whose newest id is the advisory rule's revision.
      await db.schema
        .createTable('advisories')
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('package', 'text', (c) => c.notNull())
        .addColumn('crate_key', 'text', (c) => c.notNull())
        .addColumn('date', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('withdrawn', 'text')
        .addColumn('informational', 'text')
        .addColumn('cvss', 'text')
        .addColumn('cvss_tenths', 'integer')
        .addColumn('aliases', 'text', (c) => c.notNull())
        .addColumn('categories', 'text', (c) => c.notNull())
        .addColumn('patched', 'text', (c) => c.notNull())
        .addColumn('unaffected', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('advisories_pk', ['source', 'id'])
        .execute();
      await db.schema.createIndex('advisories_crate').on('advisories').columns(['source', 'crate_key']).execute();
      await db.schema
        .createTable('advisory_syncs')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull())
        .addColumn('synced_at', 'text', (c) => c.notNull())
        .addColumn('imported', 'integer', (c) => c.notNull())
        .addColumn('skipped', 'integer', (c) => c.notNull())
        .addColumn('withdrawn', 'integer', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 12,
    async up(db, dialect) {
      // Webhooks (services/webhooks.ts): endpoints made on the admin pages, and the deliveries'
      // queue and log, claimed with a lease (claimed_until) so that one process sends each.
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('crates', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('delivery_id', 'text', (c) => c.notNull().unique())
        .addColumn('endpoint', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('crate', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('last_attempt_at', 'text')
        .addColumn('next_attempt_at', 'text')
        .addColumn('claimed_until', 'text', (c) => c.notNull())
        .addColumn('claim', 'text')
        .addColumn('redelivery_of', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint', 'id']).execute();
    },
  },
  {
    // Rustdoc hosting (docs/rustdoc.md): one row per crate version with docs built, queued or uploaded.
    version: 13,
    async up(db, dialect) {
      await db.schema
        .createTable('doc_builds')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('crate', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('log', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('docs_key', 'text')
        .addColumn('uploaded_by', 'integer')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .addUniqueConstraint('doc_builds_crate_version', ['crate', 'version'])
        .execute();
      await db.schema.createIndex('doc_builds_status').on('doc_builds').columns(['status', 'id']).execute();
    },
  },
  {
    version: 14,
    async up(db, dialect) {
      // Index files stored when a crate changes, not rendered on read (issue 13). Filled from the
      // versions by migration 18, which renders them again with their gzip form: a database that
      // lacks this migration lacks that one too.
      await db.schema
        .createTable('index_files')
        .addColumn('name_lower', 'text', (c) => c.primaryKey())
        .addColumn('body', dialect === 'sqlite' ? 'blob' : 'bytea', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 15,
    async up(db, dialect) {
      // Webhook events written in the transaction of the change they tell of (a publish, a yank,
      // an owner change), so that a crash after the commit cannot lose one; services/webhooks.ts
      // turns each into deliveries and deletes it, in one transaction.
      await db.schema
        .createTable('webhook_events')
        .addColumn('id', autoId(dialect), idColumn(dialect))
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('crate', 'text')
        .addColumn('version', 'text')
        .addColumn('actor', 'text')
        .addColumn('detail', 'text')
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 16,
    async up(db) {
      // The admin's list of what is held back asks each upstream for the crates first seen within
      // its min_release_age (PolicyStore.cratesSeenSince): by this expression, not a walk over every
      // version the mirror has ever seen.
      await db.schema
        .createIndex('policy_first_seen_recent')
        .on('policy_first_seen')
        .expression(sql`source, coalesce(pubtime, first_seen_at)`)
        .execute();
    },
  },
  {
    version: 17,
    async up(db, dialect) {
      // The number of crates, kept by triggers in the transaction that adds or removes one: search's
      // total for the empty query (sql-crate-search.ts) is then one row, not a count of every crate
      // (72 ms at 150,000 crates on PostgreSQL, where MVCC makes count(*) a scan).
      await db.schema
        .createTable('crate_count')
        .addColumn('id', 'integer', (c) => c.primaryKey().check(sql`id = 1`))
        .addColumn('crates', 'bigint', (c) => c.notNull())
        .execute();
      await sql`insert into crate_count (id, crates) select 1, count(*) from crates`.execute(db);
      if (dialect === 'sqlite') {
        await sql`create trigger crate_count_insert after insert on crates begin
          update crate_count set crates = crates + 1 where id = 1;
        end`.execute(db);
        await sql`create trigger crate_count_delete after delete on crates begin
          update crate_count set crates = crates - 1 where id = 1;
        end`.execute(db);
      } else {
        // Once per statement, with the rows it changed: an import of many crates updates the row once.
        await sql`create function crate_count_added() returns trigger language plpgsql as $$
          begin update crate_count set crates = crates + (select count(*) from changed) where id = 1; return null; end $$`.execute(db);
        await sql`create function crate_count_removed() returns trigger language plpgsql as $$
          begin update crate_count set crates = crates - (select count(*) from changed) where id = 1; return null; end $$`.execute(db);
        await sql`create trigger crate_count_insert after insert on crates
          referencing new table as changed for each statement execute function crate_count_added()`.execute(db);
        await sql`create trigger crate_count_delete after delete on crates
          referencing old table as changed for each statement execute function crate_count_removed()`.execute(db);
      }
    },
  },
  {
    version: 18,
    async up(db, dialect, onProgress) {
      // Each index file's gzip form, stored with it (issue 13): cargo always accepts gzip, so a read
      // then sends stored bytes, a tenth of the file's size, and compresses nothing. Every file is
      // rendered again from the versions with its gzip form, a page of crates at a time with
      // progress, in the migration's transaction.
      await db.schema
        .alterTable('index_files')
        .addColumn('gzip', dialect === 'sqlite' ? 'blob' : 'bytea')
        .execute();
      await rebuildIndexFiles(db, onProgress ?? noProgress);
    },
  },
  {
    version: 19,
    async up(db) {
      // The crates by downloads with the normalized name, which access rules test (sql-search-match.ts
      // isReadable): a reader allowed a few crates walks this index alone for the empty query's page
      // (the home page), not each crate's row as well. With only `tokio*` readable at 150,000 crates
      // that page took 400-580 ms on SQLite, on the event loop.
      await sql`create index crates_by_downloads on crates (downloads desc, name_lower, name_normalized)`.execute(db);
      await sql`drop index crates_downloads`.execute(db);
    },
  },
  {
    version: 20,
    async up(db) {
      // A crate page shows each version's downloads of all time and a chart of the last 90 days. Both
      // were summed from the day-by-day history on every view, on the event loop on SQLite: 58 and
      // 24 ms for a crate with 200 versions downloaded daily for two years, and growing every day.
      // Each version's total is now kept as crates.downloads is (sql-download-counts.ts), and the
      // chart reads a range of days from an index that holds the counts.
      await db.schema
        .createTable('version_download_totals')
        .addColumn('crate', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('count', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('version_download_totals_pk', ['crate', 'version'])
        .execute();
      await rebuildVersionDownloadTotals(db);
      await sql`create index version_downloads_by_day on version_downloads (crate, day, count)`.execute(db);
    },
  },
  {
    version: 21,
    async up(db, dialect) {
      // PostgreSQL: a search of two characters (sql-search-match.ts) has no trigram to look up, so it
      // read every crate's name: 22-25 ms at 150,000 crates for `se`, most of a search's time. Each
      // name's pairs of characters, in a GIN index, find the crates that contain a pair without
      // reading the others. SQLite reads names from its narrow covering index (migration 8).
      if (dialect !== 'postgres') return;
      await sql`create function crate_name_pairs(name text) returns text[] language sql immutable strict parallel safe
        as $$ select array(select substr(name, i, 2) from generate_series(1, length(name) - 1) as i) $$`.execute(db);
      await sql`create index crates_name_pairs on crates using gin (crate_name_pairs(name_normalized))`.execute(db);
    },
  },
  {
    version: 22,
    async up(db, dialect, onProgress) {
      // The version search results show, stored with each crate (sql-max-version.ts): a page of 100
      // crates with 1,000 versions each read all 100,000 version rows and parsed each number on the
      // event loop, 100-180 ms a search that any reader could repeat.
      await db.schema.alterTable('crates').addColumn('max_version', 'text').execute();
      await rebuildMaxVersions(db, dialect, onProgress ?? noProgress);
    },
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function currentSchemaVersion(db: Kysely<Database>): Promise<number> {
  const applied = await appliedVersions(db);
  return applied.length === 0 ? 0 : Math.max(...applied);
}

async function appliedVersions(db: Kysely<Database>): Promise<number[]> {
  const exists = await db.introspection.getTables().then((t) => t.some((x) => x.name === 'schema_migrations'));
  if (!exists) return [];
  const rows = await db.selectFrom('schema_migrations').select('version').execute();
  return rows.map((r) => Number(r.version));
}

export async function schemaState(db: Kysely<Database>): Promise<SchemaState> {
  const applied = await appliedVersions(db);
  const known = new Set(MIGRATIONS.map((m) => m.version));
  return {
    applied: applied.sort((x, y) => x - y),
    missing: MIGRATIONS.map((m) => m.version).filter((v) => !applied.includes(v)),
    unknown: applied.filter((v) => !known.has(v)),
  };
}

export class SchemaVersionError extends Error {
  constructor(message: string) {
    super(message);
    // Printed as one line by the CLI, like a configuration error.
    this.name = 'RegistryError';
  }
}

function assertNotAhead(state: SchemaState): void {
  if (state.unknown.length > 0) {
    throw new SchemaVersionError(
      `the database has schema migrations this cratekeeper does not know (${state.unknown.join(', ')}; it knows up to ${LATEST_SCHEMA_VERSION}): it was upgraded by a newer cratekeeper; upgrade this one`,
    );
  }
}

/**
 * `apply`: applies every missing migration (`cratekeeper migrate`, `serve --migrate`).
 * `check`: migrates only a database that has no schema yet (a first start is one command), and
 * otherwise refuses a schema that is behind or ahead, naming the command that fixes it: an existing
 * registry changes schema only when someone asked for it (after a backup).
 */
export type MigrationPolicy = 'apply' | 'check';

export async function prepareSchema(
  db: Kysely<Database>,
  dialect: SqlDialectName,
  policy: MigrationPolicy,
  onProgress: OnProgress = noProgress,
): Promise<SchemaState> {
  const state = await schemaState(db);
  assertNotAhead(state);
  if (state.missing.length === 0) return state;
  if (policy === 'check' && state.applied.length > 0) {
    throw new SchemaVersionError(
      `the database schema is behind this cratekeeper (missing migrations ${state.missing.join(', ')}); back it up (cratekeeper export), then run \`cratekeeper migrate\` with the same configuration, or start with \`cratekeeper serve --migrate\``,
    );
  }
  await migrate(db, dialect, onProgress);
  return schemaState(db);
}

export const MIGRATIONS_PHASE = 'applying migrations';

/** Applies every migration the database lacks, in order, each in its own transaction. */
export async function migrate(db: Kysely<Database>, dialect: SqlDialectName, onProgress: OnProgress = noProgress): Promise<number> {
  await db.schema
    .createTable('schema_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  const state = await schemaState(db);
  assertNotAhead(state);
  const missing = MIGRATIONS.filter((m) => state.missing.includes(m.version));
  for (const [i, migration] of missing.entries()) {
    await db.transaction().execute(async (tx) => {
      // Checked inside the transaction: another process may have applied it meanwhile.
      const done = await tx.selectFrom('schema_migrations').select('version').where('version', '=', migration.version).executeTakeFirst();
      if (done) return;
      await migration.up(tx, dialect, onProgress);
      await tx.insertInto('schema_migrations').values({ version: migration.version, applied_at: new Date().toISOString() }).execute();
    });
    onProgress(MIGRATIONS_PHASE, i + 1, missing.length, `migration ${migration.version}`);
  }
  return LATEST_SCHEMA_VERSION;
}
