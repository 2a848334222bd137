// The configuration schema: every setting, its default, and what makes it valid. File, environment
// and flags all go through this one schema. Values from the environment and flags arrive as text,
// so numbers, booleans, sizes and lists also accept their text form.

import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { upstreamsSchema } from './upstreams-schema.js';
import { loginSchema, oidcSchema, trustedPublishingSchema } from './oidc-schema.js';
import { boolean, cratePatterns, existingFile, httpUrl, integer, list, size, text } from './fields.js';

const workerCount = () =>
  z.preprocess(
    (value) => (value === 'auto' ? availableParallelism() : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value),
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
      })
      .prefault({}),
    database: z
      .strictObject({
        // Empty: SQLite in storage.data_dir. Else a PostgreSQL URL.
        url: text()
          .refine((url) => /^postgres(ql)?:\/\//.test(url), { error: 'expected a postgres:// URL (leave it out for SQLite)' })
          .optional(),
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
          })
          .prefault({}),
      })
      .prefault({}),
    auth: z.strictObject({ required: boolean().default(true) }).prefault({}),
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
    cpu: z
      .strictObject({
        // Worker threads for CPU-heavy work (tarball checks, README rendering, large index files).
        threads: integer(1, 64).default(Math.max(1, availableParallelism() - 1)),
        // Tasks that may wait for a thread; more are refused with 503 and Retry-After.
        max_queue: integer(1, 100_000).default(64),
        // Heap of each worker thread, in MiB.
        max_heap_mb: integer(32, 65_536).default(256),
      })
      .prefault({}),
    cache: z
      .strictObject({
        index_bytes: size().default(64 * 1024 ** 2),
        poll_interval_ms: integer(10, 60_000).default(250),
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
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
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
