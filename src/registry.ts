// Opens the adapters a configuration names and wires the services on them. Used by `serve` and by
// the CLI commands that work on the same data while the server runs.

import pino from 'pino';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FsBlobStore } from './adapters/blob/fs-store.js';
import type { MigrationPolicy } from './adapters/metadata/migrations.js';
import type { OnProgress } from './domain/progress.js';
import { openSqliteDatabase } from './adapters/metadata/sqlite.js';
import { AccessPolicy } from './auth/access-policy.js';
import { TokenAuthenticator } from './auth/token-authenticator.js';
import type { Config } from './config/schema.js';
import { MirrorService } from './mirror/mirror-service.js';
import { UpstreamLicences } from './mirror/upstream-licences.js';
import { openPolicy, type Policy } from './policy/open-policy.js';
import { CrateFindings } from './policy/crate-findings.js';
import type { AuditLog } from './ports/audit-log.js';
import type { BlobStore } from './ports/blob-store.js';
import type { Catalog } from './ports/catalog.js';
import type { DownloadCounts } from './ports/download-counts.js';
import type { MetadataDatabase } from './ports/metadata-database.js';
import { AccountService } from './services/accounts.js';
import { AuditQueryService } from './services/audit-query.js';
import { AuditRecorder } from './services/audit-recorder.js';
import { ChangeFeed } from './services/change-feed.js';
import { CpuPool } from './services/cpu-pool.js';
import { readCrateLicence } from './services/crate-licence.js';
import { CratePages } from './services/crate-pages.js';
import { DocsService } from './services/docs.js';
import { DocsStore } from './services/docs-store.js';
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
import { SealedSecrets } from './auth/sealed-secrets.js';
import { WebhookEndpointsService } from './services/webhook-endpoints.js';
import { sendWebhook, type WebhookSend } from './services/webhook-sender.js';
import { WebhookService } from './services/webhooks.js';

/** Rendered READMEs kept in memory (published versions never change). */
const README_CACHE_BYTES = 32 * 1024 * 1024;

export interface Registry {
  config: Config;
  /** The metadata database: its repositories, units of work, schema. */
  metadata: MetadataDatabase;
  blobs: BlobStore;
  changes: ChangeFeed;
  auth: TokenAuthenticator;
  indexFiles: IndexFiles;
  mirror: MirrorService;
  /** The supply-chain policy (src/policy/): settings, holds and releases, and the engine applying the rules. */
  supplyChain: Policy;
  /** A crate's findings and licence verdicts as the pages and the crate API show them. */
  crateFindings: CrateFindings;
  audit: AuditRecorder;
  auditLog: AuditLog;
  auditQuery: AuditQueryService;
  policy: AccessPolicy;
  failedAuthLimiter: RateLimiter;
  /** Terminal sign-in requests per client address (routes/oauth.ts), shared across replicas. */
  deviceFlowLimiter: RateLimiter;
  /** The clock of the services that decide expiry (tests may set one). */
  now: () => number;
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
  /** Webhook endpoints (file and admin pages) and their deliveries; server.ts starts the sending. */
  webhookEndpoints: WebhookEndpointsService;
  webhooks: WebhookService;
  /** Rustdoc hosting (docs/rustdoc.md): the use cases, and the docs in the blob store. */
  docs: DocsService;
  docsStore: DocsStore;
  close(): Promise<void>;
}

// Download counts wait at most this long in memory (and are written on close).
const DOWNLOAD_COUNT_FLUSH_MS = 5_000;

function dataDir(config: Config): string {
  const dir = resolve(config.storage.data_dir);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * `check` (the default) migrates only a new database and refuses one that is behind or ahead.
 * `onProgress` hears how far the migrations are (`cratekeeper migrate` shows it). `writerThread`
 * (SQLite only) moves the batched writes of serving, and index-file reads, off the event loop (sqlite-threads.ts).
 */
export async function openMetadataDatabase(
  config: Config,
  migrations: MigrationPolicy = 'check',
  onProgress?: OnProgress,
  { writerThread = false }: { writerThread?: boolean } = {},
): Promise<MetadataDatabase> {
  const { database } = config;
  if (database.url !== undefined) {
    const timeouts = {
      connectMs: database.connect_timeout_ms,
      queryMs: database.query_timeout_ms,
      statementMs: database.statement_timeout_ms,
      idleMs: database.idle_timeout_ms,
      idleInTransactionMs: database.idle_timeout_ms,
    };
    const { openPostgresDatabase } = await import('./adapters/metadata/postgres.js');
    return openPostgresDatabase(database.url, { migrations, timeouts, onProgress });
  }
  return openSqliteDatabase(join(dataDir(config), 'cratekeeper.sqlite3'), {
    migrations,
    busyTimeoutMs: database.busy_timeout_ms,
    onProgress,
    writerThread,
  });
}

export async function openBlobStore(config: Config): Promise<BlobStore> {
  if (config.storage.kind === 'fs') return new FsBlobStore(join(dataDir(config), 'blobs'));
  const { S3BlobStore } = await import('./adapters/blob/s3-store.js');
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
  options: {
    env?: NodeJS.ProcessEnv;
    onBackgroundError?: (error: unknown) => void;
    now?: () => number;
    /** The registry's URL when server.public_url is not set (server.ts knows it once listening). */
    publicUrl?: () => string;
    /** How webhook attempts are sent (tests may replace it). */
    sendWebhook?: WebhookSend;
  } = {},
): Promise<Registry> {
  const onBackgroundError = options.onBackgroundError ?? (() => {});
  // Audit events, download counts, token last-use and rate counts are written in the background
  // while requests are served: on SQLite, on a thread of their own.
  const metadata = await openMetadataDatabase(config, 'check', undefined, { writerThread: true });
  const blobs = await openBlobStore(config);

  // Every service is complete when constructed: each gets what it depends on, built before it.
  const cpu = new CpuPool({ threads: config.cpu.threads, maxQueue: config.cpu.max_queue, maxHeapMb: config.cpu.max_heap_mb });
  const indexFiles = new IndexFiles(metadata.crates, config.cache.index_bytes);
  const policy = new AccessPolicy(config.access.rules);
  const audit = new AuditRecorder(metadata.auditLog, onBackgroundError);
  const now = options.now ?? Date.now;
  const auth = new TokenAuthenticator(metadata.tokens, now);
  const downloadCounter = new DownloadCounter(metadata.downloadCounts, onBackgroundError, { flushAfterMs: DOWNLOAD_COUNT_FLUSH_MS });
  const mirror = new MirrorService(config, blobs, metadata.crates, options.env ?? process.env);
  const changes = new ChangeFeed(metadata.changes, onBackgroundError);
  // Counted in the database, so that the limits hold across processes and replicas.
  const sharedLimiter = (name: string, perMinute: number, what: string) =>
    new SharedRateLimiter(name, perMinute, what, metadata.rateCounts, onBackgroundError);
  const failedAuthLimiter = sharedLimiter(
    'failed-auth',
    config.rate_limits.failed_auth_per_minute,
    'failed token checks from this address',
  );
  const publishLimiter = sharedLimiter('publish', config.rate_limits.publish_per_minute, 'publishes by this user');
  const deviceFlowLimiter = sharedLimiter(
    'device-flow',
    config.auth.device_flow.requests_per_minute_per_address,
    'sign-in requests from this address',
  );
  const rateLimits = new SharedRateLimits([failedAuthLimiter, publishLimiter, deviceFlowLimiter], metadata.rateCounts, onBackgroundError);
  changes.subscribe((change) => {
    if (change.kind === 'crate') indexFiles.invalidate(change.subject);
    else if (change.kind === 'token') auth.forgetTokenHash(change.subject);
    else if (change.kind === 'user') auth.forgetUser(Number(change.subject));
  });

  changes.subscribe((change) => {
    if (change.kind === 'crate') mirror.forgetLocal(change.subject);
  });
  const licenceFacts = new UpstreamLicences({
    upstreams: mirror,
    blobs,
    log: pino({ level: config.log.level }, pino.destination(2)),
    readCrateLicence: (crate, name, version) => readCrateLicence(cpu, crate, name, version),
  });
  const localVersions = async (lower: string) =>
    ((await metadata.crates.listVersions(lower)) ?? []).map((v) => ({ name: v.entry.name, vers: v.entry.vers, yanked: v.yanked }));
  const supplyChain = await openPolicy(config, metadata.policy, metadata.advisories, audit, now, licenceFacts, localVersions);
  changes.subscribe((change) => {
    if (change.kind !== 'policy') return;
    if (change.subject === 'advisories') return void supplyChain.advisories.load().catch(onBackgroundError);
    const reload = change.subject === 'settings' ? supplyChain.state.reloadSettings() : supplyChain.state.reloadExceptions();
    reload.catch(onBackgroundError);
  });

  // Webhooks hear the actions services report to the audit recorder (after their change committed).
  const webhookEndpoints = new WebhookEndpointsService(
    metadata.webhookEndpoints,
    metadata.webhookDeliveries,
    new SealedSecrets(metadata.secrets),
    config.webhooks,
    options.env ?? process.env,
    now,
  );
  const delivery = config.webhook_delivery;
  const webhooks = new WebhookService({
    deliveries: metadata.webhookDeliveries,
    database: metadata,
    endpoints: webhookEndpoints,
    send: options.sendWebhook ?? sendWebhook,
    settings: {
      timeoutMs: delivery.timeout_ms,
      maxAttempts: delivery.max_attempts,
      retryInitialMs: delivery.retry_initial_ms,
      retryMaxMs: delivery.retry_max_ms,
      concurrency: delivery.concurrency,
      responseLimit: delivery.response_limit,
    },
    registryUrl: () => config.server.public_url?.replace(/\/+$/, '') ?? options.publicUrl?.() ?? '',
    onError: onBackgroundError,
    now,
  });
  audit.listen(webhooks.hear);

  const owners = new OwnersService(metadata, policy, now);
  const publish = new PublishService({
    crates: metadata.crates,
    database: metadata,
    buildDocs: config.docs.build,
    owners: metadata.owners,
    blobs,
    indexFiles,
    policy,
    limiter: publishLimiter,
    cpu,
    nameGuard: mirror,
    licences: supplyChain.licences,
    settings: {
      maxUnpackedSize: config.publish.max_unpacked_size,
      maxFiles: config.publish.max_files,
      maxManifestSize: config.publish.max_manifest_size,
      maxMetadataSize: config.publish.max_metadata_size,
      allowedRegistries: config.publish.allowed_registries,
    },
    fault: faultPointsFromEnv(options.env ?? {}),
  });
  const docsStore = new DocsStore(blobs, cpu, { maxUnpackedBytes: config.docs.max_unpacked_size, maxEntries: config.docs.max_files });
  const docs = new DocsService(metadata, policy, docsStore, { build: config.docs.build, keepVersions: config.docs.keep_versions }, now);
  return {
    config,
    metadata,
    docs,
    docsStore,
    blobs,
    changes,
    auth,
    indexFiles,
    mirror,
    supplyChain,
    crateFindings: new CrateFindings(supplyChain.engine, indexFiles, mirror, supplyChain.licences),
    accounts: new AccountService(metadata, () => changes.poll(), config.auth.max_token_lifetime),
    audit,
    auditLog: metadata.auditLog,
    auditQuery: new AuditQueryService(metadata.auditLog),
    policy,
    failedAuthLimiter,
    deviceFlowLimiter,
    now,
    rateLimits,
    publish,
    yank: new YankService(metadata, policy, indexFiles, now),
    owners,
    search: new SearchService(metadata.search, policy),
    catalog: metadata.catalog,
    cratePages: new CratePages(metadata.catalog, policy, owners),
    readmes: new ReadmeService(metadata.crates, blobs, cpu, README_CACHE_BYTES),
    downloads: new DownloadService(metadata.crates, blobs),
    downloadCounter,
    downloadCounts: metadata.downloadCounts,
    cpu,
    webhookEndpoints,
    webhooks,
    metrics: new Metrics({
      indexCache: () => ({ hits: indexFiles.hits, misses: indexFiles.misses }),
      publishes: () => publish.published,
      policyRefusals: () => supplyChain.engine.refusals(),
      licencePublishRefusals: () => publish.refusedByLicence,
    }),
    async close() {
      await changes.stop();
      await webhooks.stop();
      await rateLimits.stop();
      await audit.stop();
      await downloadCounter.stop();
      await mirror.close();
      await cpu.close();
      // With the database down, the last uses are lost, but the stores still close.
      await auth.flushLastUse().catch(onBackgroundError);
      await blobs.close();
      await metadata.close();
    },
  };
}
