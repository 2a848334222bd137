// Opens the adapters a configuration names and wires the services on them. Used by `serve` and by
// the CLI commands that work on the same data while the server runs.

import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FsBlobStore } from './adapters/blob/fs-store.js';
import { S3BlobStore } from './adapters/blob/s3-store.js';
import { openPostgresStore } from './adapters/metadata/postgres.js';
import { SqlAuditLog } from './adapters/metadata/sql-audit-log.js';
import { SqlCatalog } from './adapters/metadata/sql-catalog.js';
import { SqlDownloadCounts } from './adapters/metadata/sql-download-counts.js';
import type { MigrationPolicy } from './adapters/metadata/migrations.js';
import type { SqlMetadataStore } from './adapters/metadata/sql-store.js';
import { SqlRateCounts } from './adapters/metadata/sql-rate-counts.js';
import { openSqliteStore } from './adapters/metadata/sqlite.js';
import { AccessPolicy } from './auth/access-policy.js';
import { TokenAuthenticator } from './auth/token-authenticator.js';
import type { Config } from './config/schema.js';
import { MirrorService } from './mirror/mirror-service.js';
import type { AuditLog } from './ports/audit-log.js';
import type { BlobStore } from './ports/blob-store.js';
import type { Catalog } from './ports/catalog.js';
import type { DownloadCounts } from './ports/download-counts.js';
import type { MetadataStore } from './ports/metadata-store.js';
import { AccountService } from './services/accounts.js';
import { AuditQueryService } from './services/audit-query.js';
import { AuditRecorder } from './services/audit-recorder.js';
import { ChangeFeed } from './services/change-feed.js';
import { CpuPool } from './services/cpu-pool.js';
import { CratePages } from './services/crate-pages.js';
import { ReadmeService } from './services/readme.js';
import { DownloadCounter } from './services/download-counter.js';
import { DownloadService } from './services/downloads.js';
import { faultPointsFromEnv } from './services/fault-points.js';
import { IndexFiles } from './services/index-files.js';
import { Metrics } from './services/metrics.js';
import { OwnersService } from './services/owners.js';
import { PublishService } from './services/publish.js';
import type { RateLimiter } from './lib/rate-limiter.js';
import { SearchService } from './services/search.js';
import { SharedRateLimiter, SharedRateLimits } from './services/shared-rate-limiter.js';
import { YankService } from './services/yank.js';

/** Rendered READMEs kept in memory (published versions never change). */
const README_CACHE_BYTES = 32 * 1024 * 1024;

export interface Registry {
  config: Config;
  store: MetadataStore;
  blobs: BlobStore;
  changes: ChangeFeed;
  auth: TokenAuthenticator;
  indexFiles: IndexFiles;
  mirror: MirrorService;
  audit: AuditRecorder;
  auditLog: AuditLog;
  auditQuery: AuditQueryService;
  policy: AccessPolicy;
  failedAuthLimiter: RateLimiter;
  /** Refreshes the rate limits shared through the database; server.ts starts it. */
  rateLimits: SharedRateLimits;
  accounts: AccountService;
  publish: PublishService;
  yank: YankService;
  owners: OwnersService;
  search: SearchService;
  /** Read models and assembly for the web pages. */
  catalog: Catalog;
  cratePages: CratePages;
  readmes: ReadmeService;
  downloads: DownloadService;
  /** Counts successful downloads of local crates; written to `downloadCounts` in batches. */
  downloadCounter: DownloadCounter;
  /** Per version and per day download counts, for the crate pages. */
  downloadCounts: DownloadCounts;
  /** What /metrics reports for this process. */
  metrics: Metrics;
  /** Worker threads for CPU-heavy work, off the event loop. */
  cpu: CpuPool;
  close(): Promise<void>;
}

// Download counts wait at most this long in memory (and are written on close).
const DOWNLOAD_COUNT_FLUSH_MS = 5_000;

function dataDir(config: Config): string {
  const dir = resolve(config.storage.data_dir);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `check` (the default) migrates only a new database and refuses one that is behind or ahead. */
export function openMetadataStore(config: Config, migrations: MigrationPolicy = 'check'): Promise<SqlMetadataStore> {
  const { database } = config;
  if (database.url !== undefined) {
    const timeouts = {
      connectMs: database.connect_timeout_ms,
      queryMs: database.query_timeout_ms,
      statementMs: database.statement_timeout_ms,
      idleMs: database.idle_timeout_ms,
      idleInTransactionMs: database.idle_timeout_ms,
    };
    return openPostgresStore(database.url, { migrations, timeouts });
  }
  return openSqliteStore(join(dataDir(config), 'cratekeeper.sqlite3'), { migrations, busyTimeoutMs: database.busy_timeout_ms });
}

export function openBlobStore(config: Config): BlobStore {
  if (config.storage.kind === 'fs') return new FsBlobStore(join(dataDir(config), 'blobs'));
  const s3 = config.storage.s3;
  return new S3BlobStore({
    bucket: s3.bucket!,
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: s3.force_path_style,
    prefix: s3.prefix,
    credentials:
      s3.access_key_id !== undefined && s3.secret_access_key !== undefined
        ? { accessKeyId: s3.access_key_id, secretAccessKey: s3.secret_access_key }
        : undefined,
    timeouts: { connectMs: s3.connect_timeout_ms, idleMs: s3.timeout_ms, maxAttempts: s3.max_attempts },
  });
}

export async function openRegistry(
  config: Config,
  options: { env?: NodeJS.ProcessEnv; onBackgroundError?: (error: unknown) => void } = {},
): Promise<Registry> {
  const store = await openMetadataStore(config);
  const blobs = openBlobStore(config);

  const cpu = new CpuPool({ threads: config.cpu.threads, maxQueue: config.cpu.max_queue, maxHeapMb: config.cpu.max_heap_mb });
  const indexFiles = new IndexFiles(store, cpu, config.cache.index_bytes);
  const policy = new AccessPolicy(config.access.rules);
  const auditLog = new SqlAuditLog(store.db);
  const audit = new AuditRecorder(auditLog, options.onBackgroundError ?? (() => {}));
  const auth = new TokenAuthenticator(store);
  const downloadCounts = new SqlDownloadCounts(store.db);
  const downloadCounter = new DownloadCounter(downloadCounts, options.onBackgroundError ?? (() => {}), { flushAfterMs: DOWNLOAD_COUNT_FLUSH_MS });
  const mirror = new MirrorService(config, blobs, store, options.env ?? process.env);
  const changes = new ChangeFeed(store, options.onBackgroundError ?? (() => {}));
  // Counted in the database, so that the limits hold across processes and replicas.
  const rateCounts = new SqlRateCounts(store.db);
  const sharedLimiter = (name: string, perMinute: number, what: string) =>
    new SharedRateLimiter(name, perMinute, what, rateCounts, options.onBackgroundError ?? (() => {}));
  const failedAuthLimiter = sharedLimiter('failed-auth', config.rate_limits.failed_auth_per_minute, 'failed token checks from this address');
  const publishLimiter = sharedLimiter('publish', config.rate_limits.publish_per_minute, 'publishes by this user');
  const rateLimits = new SharedRateLimits([failedAuthLimiter, publishLimiter], rateCounts, options.onBackgroundError ?? (() => {}));
  changes.subscribe((change) => {
    if (change.kind === 'crate') indexFiles.invalidate(change.subject);
    else if (change.kind === 'token') auth.forgetTokenHash(change.subject);
    else auth.forgetUser(Number(change.subject));
  });

  changes.subscribe((change) => {
    if (change.kind === 'crate') mirror.forgetLocal(change.subject);
  });

  const owners = new OwnersService(store, policy);
  const catalog = new SqlCatalog(store.db);
  const registry: Registry = {
    config,
    store,
    blobs,
    changes,
    auth,
    indexFiles,
    mirror,
    accounts: new AccountService(store, () => changes.poll()),
    audit,
    auditLog,
    auditQuery: new AuditQueryService(auditLog),
    policy,
    failedAuthLimiter,
    rateLimits,
    publish: new PublishService({
      store,
      blobs,
      indexFiles,
      policy,
      limiter: publishLimiter,
      cpu,
      nameGuard: (name) => mirror.assertLocalNameFree(name),
      settings: {
        maxUnpackedSize: config.publish.max_unpacked_size,
        maxFiles: config.publish.max_files,
        maxManifestSize: config.publish.max_manifest_size,
        maxMetadataSize: config.publish.max_metadata_size,
        allowedRegistries: config.publish.allowed_registries,
      },
      fault: faultPointsFromEnv(options.env ?? {}),
    }),
    yank: new YankService(store, policy, indexFiles),
    owners,
    search: new SearchService(store, policy),
    catalog,
    cratePages: new CratePages(catalog, policy, owners),
    readmes: new ReadmeService(store, blobs, cpu, README_CACHE_BYTES),
    downloads: new DownloadService(store, blobs),
    downloadCounter,
    downloadCounts,
    cpu,
    metrics: new Metrics({
      indexCache: () => ({ hits: indexFiles.hits, misses: indexFiles.misses }),
      publishes: () => registry.publish.published,
    }),
    async close() {
      await changes.stop();
      await rateLimits.stop();
      await audit.stop();
      await downloadCounter.stop();
      await mirror.close();
      await cpu.close();
      // With the database down, the last uses are lost, but the stores still close.
      await auth.flushLastUse().catch(options.onBackgroundError ?? (() => {}));
      await blobs.close();
      await store.close();
    },
  };
  return registry;
}
