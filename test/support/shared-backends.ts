// PostgreSQL and S3 (Swift with s3api) for tests that run the real server on the scale-out
// backends: one database and one bucket, described as the CRATEKEEPER_* environment a `serve`
// process (or a CLI command on the same registry) needs. Every call gets a fresh database; the
// bucket gets a key prefix of its own, so several registries can share one Swift.

import { randomBytes } from 'node:crypto';
import { startPostgresServer, type PostgresServer } from './postgres-server.js';
import { startSwiftS3, type SwiftS3 } from './swift-s3-server.js';

export interface SharedBackends {
  postgres: PostgresServer;
  swift: SwiftS3;
  /** A fresh database and blob prefix, as environment variables for `serve` and the CLI. */
  newRegistryEnv(): Promise<Record<string, string>>;
  stop(): Promise<void>;
}

export async function startSharedBackends(): Promise<SharedBackends> {
  const [postgres, swift] = await Promise.all([startPostgresServer(), startSwiftS3()]);
  return {
    postgres,
    swift,
    async newRegistryEnv() {
      const url = await postgres.createDatabase();
      return {
        CRATEKEEPER_DATABASE__URL: url,
        CRATEKEEPER_STORAGE__KIND: 's3',
        CRATEKEEPER_STORAGE__S3__BUCKET: swift.bucket,
        CRATEKEEPER_STORAGE__S3__REGION: swift.region,
        CRATEKEEPER_STORAGE__S3__ENDPOINT: swift.endpoint,
        CRATEKEEPER_STORAGE__S3__FORCE_PATH_STYLE: 'true',
        CRATEKEEPER_STORAGE__S3__PREFIX: `registry-${randomBytes(4).toString('hex')}/`,
        CRATEKEEPER_STORAGE__S3__ACCESS_KEY_ID: swift.accessKeyId,
        CRATEKEEPER_STORAGE__S3__SECRET_ACCESS_KEY: swift.secretAccessKey,
      };
    },
    async stop() {
      await Promise.all([postgres.stop(), swift.stop()]);
    },
  };
}
