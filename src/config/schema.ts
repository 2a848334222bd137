// The configuration schema: every setting, its default, and what makes it valid. File, environment
// and flags all go through this one schema. Values from the environment and flags arrive as text,
// so numbers, booleans, sizes and lists also accept their text form.

import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { upstreamsSchema } from './upstreams-schema.js';
import { loginSchema, oidcSchema, trustedPublishingSchema } from './oidc-schema.js';
import { webhookDeliverySchema, webhooksSchema } from './webhooks-schema.js';
import { boolean, cratePatterns, duration, existingFile, httpUrl, integer, list, proxyAddresses, size, text } from './fields.js';

const workerCount = () =>
  z.preprocess(
    (value) =>
      value === 'auto' ? availableParallelism() : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value,
    z.number({ error: 'expected a number of processes from 1 to 64, or "auto"' }).int().min(1).max(64),
  );

export const CRATES_IO_INDEX = 'https://github.com/rust-lang/crates.io-index';

export const configSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: text().default('127.0.0.1'),
        port: integer(0, 65535).default(8000),
        public_url: httpUrl().optional(),
        tls_cert: existingFile().optional(),
        tls_key: existingFile().optional(),
        shutdown_grace_seconds: integer(0, 3600).default(30),
        workers: workerCount().default(1),
        // Peers whose X-Forwarded-For names the client (a reverse proxy, a load balancer): addresses,
        // CIDR ranges, or "loopback", "linklocal", "uniquelocal". Empty: the peer is the client.
        trusted_proxies: proxyAddresses().default([]),
        // Each check of /readyz (database, storage) counts as failed when it takes longer.
        readiness_timeout_ms: integer(100, 60_000).default(2_000),
      })
      .prefault({}),
    database: z
      .strictObject({
        // Empty: SQLite in storage.data_dir. Else a PostgreSQL URL.
        url: text()
          .refine((url) => /^postgres(ql)?:\/\//.test(url), { error: 'expected a postgres:// URL (leave it out for SQLite)' })
          .optional(),
        // PostgreSQL: opening a connection, or waiting for a free one in the pool.
        connect_timeout_ms: integer(100, 600_000).default(3_000),
        // PostgreSQL: a query with no answer after this long fails (503) and its connection is
        // closed; it catches a server that stopped answering. Longer than statement_timeout_ms.
        query_timeout_ms: integer(100, 3_600_000).default(6_000),
        // PostgreSQL's own statement_timeout (0: none): the server cancels a statement this slow.
        statement_timeout_ms: integer(0, 3_600_000).default(5_000),
        // PostgreSQL: idle pooled connections close after this long, and the server ends a session
        // idle this long inside a transaction (idle_in_transaction_session_timeout), freeing its locks.
        idle_timeout_ms: integer(1_000, 3_600_000).default(10_000),
        // SQLite: how long a write waits for a lock another process holds (it blocks this process).
        busy_timeout_ms: integer(0, 60_000).default(5_000),
      })
      .prefault({}),
    storage: z
      .strictObject({
        data_dir: text().default('./data'),
        kind: z.enum(['fs', 's3'], { error: 'expected "fs" or "s3"' }).default('fs'),
        s3: z
          .strictObject({
            bucket: text().optional(),
            region: text().default('us-east-1'),
            endpoint: httpUrl().optional(),
            force_path_style: boolean().default(false),
            prefix: z.string().default(''),
            // Leave both out to use the AWS SDK's default chain (AWS_ACCESS_KEY_ID..., profiles, roles).
            access_key_id: text().optional(),
            secret_access_key: text().optional(),
            connect_timeout_ms: integer(100, 600_000).default(3_000),
            // Longest time without progress on a request: no answer, a stuck upload, a stalled download.
            timeout_ms: integer(100, 3_600_000).default(5_000),
            // Attempts per operation, the first included.
            max_attempts: integer(1, 10).default(2),
          })
          .prefault({}),
      })
      .prefault({}),
    auth: z
      .strictObject({
        required: boolean().default(true),
        // The longest expiry of a token made by hand (API, page, CLI); unset: no cap. Trusted
        // publishing and service-account tokens (`token create --service-account`) are outside it.
        max_token_lifetime: duration(60_000, 36_500 * 86_400_000).optional(),
        // Terminal sign-in (`cratekeeper login`, RFC 8628): see docs/identity.md.
        device_flow: z
          .strictObject({
            access_token_lifetime: duration(1_000, 30 * 86_400_000).default(8 * 3_600_000),
            // Sliding: each refresh extends the device session by this much.
            refresh_token_lifetime: duration(1_000, 3_650 * 86_400_000).default(30 * 86_400_000),
            code_lifetime: duration(1_000, 86_400_000).default(10 * 60_000),
            poll_interval: duration(1_000, 600_000).default(5_000),
            // Device authorizations and token requests per client address and minute (shared by replicas).
            requests_per_minute_per_address: integer(1, 1_000_000).default(120),
          })
          .prefault({}),
      })
      .prefault({}),
    publish: z
      .strictObject({
        max_size: size().default(10 * 1024 ** 2),
        max_unpacked_size: size().default(512 * 1024 ** 2),
        // Entries (files and folders) in a .crate.
        max_files: integer(1, 10_000_000).default(20_000),
        // The packaged Cargo.toml.
        max_manifest_size: size().default(1024 ** 2),
        // The JSON metadata before the .crate in a publish body (it carries the README's text).
        max_metadata_size: size().default(2 * 1024 ** 2),
        // Publishes in progress at once per process, and per user: bounds memory, and one user
        // cannot take every slot. More wait up to queue_seconds, then get 503 with Retry-After.
        max_in_flight: integer(1, 1024).default(4),
        max_in_flight_per_user: integer(1, 1024).default(2),
        queue_seconds: integer(0, 600).default(20),
        // The whole upload must arrive within this time, else 408 (a slow sender holds a slot).
        upload_timeout_seconds: integer(1, 3600).default(120),
        allowed_registries: list().default([CRATES_IO_INDEX]),
      })
      .prefault({}),
    access: z
      .strictObject({
        rules: z
          .array(
            z.strictObject({
              crates: cratePatterns().pipe(z.array(z.string()).min(1, { error: 'a rule needs at least one crate pattern' })),
              read: z.array(z.string()).optional(),
              publish: z.array(z.string()).optional(),
              admins: z.array(z.string()).optional(),
            }),
          )
          .default([]),
      })
      .prefault({}),
    audit: z
      .strictObject({
        // 0 keeps events forever.
        retention_days: integer(0, 36_500).default(90),
        flush_interval_ms: integer(50, 60_000).default(2000),
      })
      .prefault({}),
    rate_limits: z
      .strictObject({
        publish_per_minute: integer(1, 1_000_000).default(60),
        failed_auth_per_minute: integer(1, 1_000_000).default(30),
      })
      .prefault({}),
    upstreams: upstreamsSchema,
    oidc: oidcSchema,
    login: loginSchema,
    trusted_publishing: trustedPublishingSchema,
    // Webhooks (docs/webhooks.md): endpoints, and how deliveries are retried.
    webhooks: webhooksSchema,
    webhook_delivery: webhookDeliverySchema,
    cpu: z
      .strictObject({
        // Worker threads for CPU-heavy work (tarball checks, README rendering, docs archives).
        threads: integer(1, 64).default(Math.max(1, availableParallelism() - 1)),
        // Tasks that may wait for a thread; more are refused with 503 and Retry-After.
        max_queue: integer(1, 100_000).default(64),
        // Heap of each worker thread, in MiB.
        max_heap_mb: integer(32, 65_536).default(256),
      })
      .prefault({}),
    cache: z
      .strictObject({
        // Counted as kept: mostly gzip forms (cargo always accepts gzip), about a tenth of each file.
        index_bytes: size().default(32 * 1024 ** 2),
        poll_interval_ms: integer(10, 60_000).default(250),
      })
      .prefault({}),
    // Rustdoc hosting (docs/rustdoc.md): built by the registry when `build` is on, or uploaded from CI.
    docs: z
      .strictObject({
        build: boolean().default(false),
        // Builds at once per process (each in its own child process).
        concurrency: integer(1, 64).default(1),
        // A build (fetch and rustdoc together) longer than this is killed and recorded as failed.
        timeout: duration(10_000, 86_400_000).default(10 * 60_000),
        // Build even where the sandbox does not work (no user namespaces): crate code then runs with
        // the server's rights and network. Off: such builds fail, saying why; uploads still work.
        allow_unsandboxed: boolean().default(false),
        // Address space of each build's processes (prlimit --as); rustc needs several GiB of it.
        memory_limit: size().default(8 * 1024 ** 3),
        // The newest N versions of a crate keep their docs; 0: every version.
        keep_versions: integer(0, 1_000_000).default(0),
        // An uploaded (or built) target/doc archive: compressed, unpacked, and entries.
        max_archive_size: size().default(100 * 1024 ** 2),
        max_unpacked_size: size().default(1024 ** 3),
        max_files: integer(1, 10_000_000).default(100_000),
        // Uploads being received at once per process (each is buffered whole, one per user at a time;
        // more wait up to publish.queue_seconds, then 503), and how long one upload may take to arrive.
        max_uploads_in_flight: integer(1, 64).default(2),
        upload_timeout_seconds: integer(1, 3600).default(600),
      })
      .prefault({}),
    metrics: z
      .strictObject({
        // When set, GET /metrics requires `Authorization: Bearer <token>` (a static string for scrapers).
        token: text().optional(),
      })
      .prefault({}),
    log: z
      .strictObject({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        // `auto`: readable lines on a terminal, JSON lines otherwise (a file, a pipe, journald).
        format: z.enum(['auto', 'pretty', 'json'], { error: 'expected "auto", "pretty" or "json"' }).default('auto'),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    const { database } = config;
    if (database.statement_timeout_ms > 0 && database.query_timeout_ms <= database.statement_timeout_ms) {
      ctx.addIssue({
        code: 'custom',
        path: ['database', 'query_timeout_ms'],
        message: `must be longer than database.statement_timeout_ms (${database.statement_timeout_ms}), so that a slow statement is cancelled by the server before the connection is given up`,
      });
    }
    const { s3 } = config.storage;
    if (config.storage.kind === 's3' && s3.bucket === undefined) {
      ctx.addIssue({ code: 'custom', path: ['storage', 's3', 'bucket'], message: 'required when storage.kind is "s3"' });
    }
    if ((s3.access_key_id === undefined) !== (s3.secret_access_key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['storage', 's3', s3.access_key_id === undefined ? 'access_key_id' : 'secret_access_key'],
        message: 'access_key_id and secret_access_key must be given together',
      });
    }
    const { tls_cert, tls_key } = config.server;
    if ((tls_cert === undefined) !== (tls_key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['server', tls_cert === undefined ? 'tls_cert' : 'tls_key'],
        message: 'tls_cert and tls_key must be given together',
      });
    }
  });

export type Config = z.output<typeof configSchema>;
