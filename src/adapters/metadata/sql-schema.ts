// Table types for Kysely. Timestamps are ISO-8601 text and booleans 0/1 integers, so that the same
// queries run unchanged on SQLite and PostgreSQL.

import type { Generated } from 'kysely';

export interface Database {
  schema_migrations: { version: number; applied_at: string };
  users: {
    id: Generated<number>;
    login: string;
    is_admin: number;
    created_at: string;
    password_hash: Generated<string | null>;
    /** When an administrator disabled the account (migration 9); null: enabled. */
    disabled_at: Generated<string | null>;
  };
  tokens: {
    id: Generated<number>;
    user_id: number;
    name: string;
    token_hash: string;
    created_at: string;
    last_used_at: string | null;
    expires_at: string | null;
    revoked_at: string | null;
    scopes: string | null;
    crate_patterns: string | null;
    /** Where the token came from: `login` (the /me page), `trusted-publishing ...`; null: made by hand. */
    origin: Generated<string | null>;
    /** The device session an access token of the device flow belongs to (migration 9). */
    device_session_id: Generated<number | null>;
  };
  crates: {
    id: Generated<number>;
    name: string;
    name_lower: string;
    name_normalized: string;
    description: string | null;
    created_at: string;
    updated_at: string;
    /** Every download of every version (migration 8), for ordering search results. */
    downloads: Generated<number>;
    /** The version search results show (migration 22, sql-max-version.ts); null only before its first version. */
    max_version: string | null;
  };
  versions: {
    id: Generated<number>;
    crate_id: number;
    vers: string;
    vers_key: string;
    entry_json: string;
    details_json: string;
    yanked: Generated<number>;
    blob_key: string;
    size: number;
    cksum: string;
    published_by: number;
    created_at: string;
  };
  crate_owners: { crate_id: number; user_id: number; created_at: string };
  crate_owner_groups: { crate_id: number; group_name: string; created_at: string };
  changes: { seq: Generated<number>; kind: string; subject: string; created_at: string };
  /** Supply-chain policy settings per source (migration 10): `local` or `upstream:<name>`; value as JSON text. */
  policy_settings: { source: string; key: string; value: string; updated_at: string; updated_by: string | null };
  /** Holds and early releases (migration 10); source null: every source; version null: every version. */
  policy_exceptions: {
    id: Generated<number>;
    kind: string;
    source: string | null;
    crate: string;
    version: string | null;
    reason: string;
    created_by: string | null;
    created_at: string;
    expires_at: string | null;
  };
  /** When each upstream version was first seen, and its pubtime then (migration 10); never updated. */
  policy_first_seen: { source: string; crate: string; version: string; first_seen_at: string; pubtime: string | null };
  group_members: { group_name: string; user_id: number; created_at: string; source: Generated<string> };
  rate_limit_counts: { limiter: string; window_start: number; key: string; hits: number };
  user_identities: { issuer: string; subject: string; user_id: number; created_at: string };
  used_id_tokens: { issuer: string; jti: string; expires_at: string };
  server_secrets: { name: string; value: string; created_at: string };
  /** Downloads per crate (lower-case name), version and UTC day ('YYYY-MM-DD'). */
  version_downloads: { crate: string; version: string; day: string; count: number };
  /** Each version's downloads of all time, a running sum of version_downloads (migration 20). */
  version_download_totals: { crate: string; version: string; count: number | string };
  audit_events: {
    id: Generated<number>;
    at: string;
    action: string;
    user_login: string | null;
    token_id: number | null;
    crate: string | null;
    version: string | null;
    client_ip: string | null;
    user_agent: string | null;
    detail: string | null;
    count: number;
  };
  device_authorizations: {
    id: Generated<number>;
    device_code_hash: string;
    user_code: string;
    client_address: string;
    device_name: string;
    scopes: string;
    status: string;
    user_id: number | null;
    provider_refresh_token: string | null;
    created_at: string;
    expires_at: string;
    last_poll_at: string | null;
    interval_seconds: number;
    consumed_at: string | null;
  };
  device_sessions: {
    id: Generated<number>;
    user_id: number;
    name: string;
    client_address: string;
    scopes: string;
    created_at: string;
    last_refresh_at: string | null;
    expires_at: string;
    revoked_at: string | null;
    revoked_reason: string | null;
    provider_refresh_token: string | null;
  };
  device_refresh_tokens: { token_hash: string; session_id: number; created_at: string; used_at: string | null };
  /** Rustdoc builds and uploads (migration 13): crate is the lower-case name; docs_key the blob prefix. */
  doc_builds: {
    id: Generated<number>;
    crate: string;
    version: string;
    status: string;
    log: Generated<string>;
    docs_key: string | null;
    uploaded_by: number | null;
    attempts: Generated<number>;
    lease_owner: string | null;
    lease_expires_at: string | null;
    created_at: string;
    started_at: string | null;
    finished_at: string | null;
  };
  /** Each crate's sparse-index file as served and its gzip form (null under 1 KiB), kept with the versions (migrations 14 and 18, sql-index-files.ts). */
  index_files: { name_lower: string; body: Buffer; etag: string; gzip: Buffer | null };
  /** One row (id 1): the number of crates, kept by triggers on crates (migration 17). */
  crate_count: { id: number; crates: number | string };
  provider_grants: { session_token_id: number; user_id: number; refresh_token: string; created_at: string };
  /** Webhook endpoints made on the admin pages (migration 12); config-file ones are not stored. */
  webhook_endpoints: {
    id: Generated<number>;
    name: string;
    url: string;
    secret_sealed: string;
    events: string;
    crates: string | null;
    enabled: number;
    created_at: string;
    updated_at: string;
  };
  /** Webhook events not yet turned into deliveries (migration 15). */
  webhook_events: {
    id: Generated<number>;
    event_id: string;
    event: string;
    crate: string | null;
    version: string | null;
    actor: string | null;
    detail: string | null;
    at: string;
  };
  /** The queue and log of webhook deliveries (migration 12). */
  webhook_deliveries: {
    id: Generated<number>;
    delivery_id: string;
    endpoint: string;
    event: string;
    crate: string | null;
    body: string;
    status: string;
    attempts: number;
    last_status: number | null;
    last_error: string | null;
    last_attempt_at: string | null;
    next_attempt_at: string | null;
    claimed_until: string;
    claim: string | null;
    redelivery_of: number | null;
    created_at: string;
  };
  /** RustSec advisories per source they were synced for (migration 11); lists are JSON text. */
  advisories: {
    source: string;
    id: string;
    package: string;
    crate_key: string;
    date: string;
    title: string;
    description: string;
    url: string | null;
    withdrawn: string | null;
    informational: string | null;
    cvss: string | null;
    cvss_tenths: number | null;
    aliases: string;
    categories: string;
    patched: string;
    unaffected: string;
  };
  advisory_syncs: {
    id: Generated<number>;
    source: string;
    origin: string;
    synced_at: string;
    imported: number;
    skipped: number;
    withdrawn: number;
  };
}
