// One serving process: configuration → adapters → app → listen. It returns what a caller prints
// (the URL, on the first start of an empty registry the admin's first token, and whether any admin
// can sign in); logs go to stderr (log-output.ts). stop() stops accepting work, lets requests in
// flight finish, and closes the stores.

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { OidcLogin } from './auth/oidc-client.js';
import type { Config } from './config/schema.js';
import { RegistryError } from './domain/errors.js';
import { buildApp } from './http/app.js';
import { createServerLogger, fastifyListenText } from './log-output.js';
import { findAdminLockout, type AdminLockout } from './services/admin-access.js';
import { DocBuilder } from './services/docs-builder.js';
import { openRegistry } from './registry.js';
import { throttleUnavailable } from './lib/outage-log.js';

const LAST_USE_FLUSH_MS = 5_000;
const AUDIT_PRUNE_MS = 3_600_000;
/** How often an idle docs builder looks for builds queued by other processes. */
const DOC_BUILD_POLL_MS = 5_000;

function urlOfAddress(address: AddressInfo, tls: boolean): string {
  let host = address.address;
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  if (host.includes(':')) host = `[${host}]`;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}

export interface ServerOptions {
  env: NodeJS.ProcessEnv;
  /** Creates the admin user on an empty registry (the one process that starts a cluster does it). */
  bootstrap: boolean;
  /** Called after every write this process answers, so that sibling processes can catch up. */
  onWrite?: () => void;
  /** The configuration file the server was started with: docs builds must not read it. */
  configFile?: string;
}

export interface RunningServer {
  url: string;
  /** server.public_url, else `url`: the base URL cargo and browsers use. */
  publicUrl: string;
  /** The admin's first token when this start created the admin user. */
  firstToken: string | undefined;
  /** Set when users exist but no administrator can sign in (checked by the bootstrapping process). */
  adminLockout: AdminLockout | undefined;
  /** Reads the change feed now (a sibling process wrote something). */
  pollChanges(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServer(config: Config, options: ServerOptions): Promise<RunningServer> {
  const logger = createServerLogger(config.log);
  // A provider that answers unusably (no userinfo endpoint...) stops the start, before anything
  // opens; one that does not answer is only logged: sign-ins retry it, cargo does not need it.
  const oidc =
    config.oidc !== undefined ? await OidcLogin.discover(config.oidc, (error, message) => logger.warn({ err: error }, message)) : undefined;
  // While a dependency is down every background loop fails each round: its repeats are thinned out.
  const backgroundError = (what: string) =>
    throttleUnavailable((error, { repeatsLeftOut }) =>
      logger.error({ err: error, ...(repeatsLeftOut > 0 ? { repeatsLeftOut } : {}) }, what),
    );
  const onBackgroundError = backgroundError('background task failed');
  let publicUrl = config.server.public_url?.replace(/\/+$/, '') ?? '';
  const registry = await openRegistry(config, { env: options.env, onBackgroundError, publicUrl: () => publicUrl });
  const tls =
    config.server.tls_cert !== undefined && config.server.tls_key !== undefined
      ? { cert: readFileSync(config.server.tls_cert), key: readFileSync(config.server.tls_key) }
      : undefined;

  const app = buildApp(registry, { publicUrl: () => publicUrl, logger, tls, onWrite: options.onWrite, oidc });

  // Replicas that start together on a new database race to create the admin: one wins, the others
  // see the user appear and go on without a first token.
  const firstToken = options.bootstrap
    ? await registry.accounts.bootstrapAdmin().catch((error: unknown) => {
        if (error instanceof RegistryError && error.code === 'user-exists') return undefined;
        throw error;
      })
    : undefined;
  const adminLockout =
    options.bootstrap && firstToken === undefined
      ? await findAdminLockout(registry.metadata, { oidcConfigured: oidc !== undefined, now: Date.now })
      : undefined;
  await registry.changes.start(config.cache.poll_interval_ms);
  registry.rateLimits.start(config.cache.poll_interval_ms);
  const onLastUseError = backgroundError('recording token use failed');
  const flushTimer = setInterval(() => {
    registry.auth.flushLastUse().catch(onLastUseError);
  }, LAST_USE_FLUSH_MS);
  flushTimer.unref();
  registry.audit.start(config.audit.flush_interval_ms);
  const onPruneError = backgroundError('pruning the audit log failed');
  const pruneAudit = () => {
    if (config.audit.retention_days === 0) return;
    const before = new Date(Date.now() - config.audit.retention_days * 86_400_000).toISOString();
    registry.auditLog.prune(before).catch(onPruneError);
  };
  pruneAudit();
  const pruneTimer = setInterval(pruneAudit, AUDIT_PRUNE_MS);
  pruneTimer.unref();

  await app.listen({ host: config.server.host, port: config.server.port, listenTextResolver: fastifyListenText });
  const url = urlOfAddress(app.server.address() as AddressInfo, tls !== undefined);
  if (publicUrl === '') publicUrl = url;
  registry.webhooks.start(config.webhook_delivery.poll_interval_ms);
  // The one listening line is the caller's, on stdout (a cluster's primary prints it once for all
  // workers); the log has the details at debug level only, so that nothing says it twice.
  logger.debug({ url, publicUrl, dataDir: config.storage.data_dir, pid: process.pid }, 'serving');

  // Rustdoc builds (docs/rustdoc.md): child processes fed from the database's queue.
  const docBuilder = config.docs.build
    ? new DocBuilder(
        {
          builds: registry.metadata.docBuilds,
          crates: registry.metadata.crates,
          catalog: registry.catalog,
          blobs: registry.blobs,
          store: registry.docsStore,
          docs: registry.docs,
          tokens: registry.accounts,
          publicUrl: () => publicUrl,
          now: registry.now,
          onError: backgroundError('building docs failed'),
          warn: (message) => logger.warn(message),
          env: options.env,
          secrets: {
            dataDir: resolve(config.storage.data_dir),
            configFile: options.configFile,
            files: [config.server.tls_cert, config.server.tls_key].filter((f): f is string => f !== undefined),
          },
        },
        {
          concurrency: config.docs.concurrency,
          timeoutMs: config.docs.timeout,
          memoryLimit: config.docs.memory_limit,
          allowUnsandboxed: config.docs.allow_unsandboxed,
          pollMs: DOC_BUILD_POLL_MS,
        },
      )
    : undefined;
  if (docBuilder) {
    registry.docs.onQueued(() => docBuilder.wake());
    docBuilder.start();
  }

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('stopping: finishing requests in flight');
      const grace = setTimeout(() => {
        logger.warn('requests still running after the grace period; closing their connections');
        app.server.closeAllConnections?.();
      }, config.server.shutdown_grace_seconds * 1000);
      grace.unref();
      // A keep-alive connection whose request was in flight goes idle once answered; close it then,
      // rather than wait for the client (cargo keeps its connections open).
      const closeIdle = setInterval(() => app.server.closeIdleConnections?.(), 50);
      await app.close();
      clearInterval(closeIdle);
      clearInterval(flushTimer);
      clearInterval(pruneTimer);
      await docBuilder?.stop();
      await registry.close();
      clearTimeout(grace);
    })());
  return { url, publicUrl, firstToken, adminLockout, pollChanges: () => registry.changes.poll(), stop };
}
