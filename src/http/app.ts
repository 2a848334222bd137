// Builds the HTTP application: route groups with their authentication hooks and the error mapper.
// It never listens; server.ts does, and tests use `inject`. Each group is an encapsulating plugin
// that adds its hooks (and, for writes, its body parser) and then registers its route plugins
// (routes/*.ts, all `RoutePlugin`s), which inherit them; a hook added inside a route plugin stays
// inside it. Route schemas are zod schemas (zod-type-provider.ts).

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { OidcLogin } from '../auth/oidc-client.js';
import { WebSessions } from '../auth/web-sessions.js';
import type { Registry } from '../registry.js';
import { authenticate } from './authentication.js';
import { apiErrors } from './error-mapper.js';
import { acceptRawBodies } from './raw-body.js';
import { installUnmatchedRoutes } from './unmatched-routes.js';
import { adminAdvisoryRoutes } from './routes/admin-advisories.js';
import { adminAuditRoutes } from './routes/admin-audit.js';
import { adminWebhookRoutes } from './routes/admin-webhooks.js';
import { adminPolicyRoutes } from './routes/admin-policy.js';
import { policyCheckRoutes } from './routes/policy-check.js';
import { PolicyCheck } from '../policy/policy-check.js';
import { cratesApiRoutes } from './routes/crates-api.js';
import { cratesReadApiRoutes } from './routes/crates-read-api.js';
import { docsReadApiRoutes, docsUploadRoutes } from './routes/docs-api.js';
import { docsPageRoutes } from './routes/docs-pages.js';
import { DocsTickets } from '../auth/docs-tickets.js';
import { downloadRoutes, type DownloadOptions } from './routes/downloads.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { identityRoutes } from './routes/identity.js';
import { myTokenRoutes } from './routes/my-tokens.js';
import { currentTokenRoutes } from './routes/current-token.js';
import { mirrorHandover, mirrorRoutes } from './routes/mirror.js';
import { mirrorCrateViewRoutes } from './routes/mirror-crate-view.js';
import { sparseIndexRoutes, type SparseIndexOptions } from './routes/sparse-index.js';
import { clientAddressOf, proxyTrust } from './client-address.js';
import { answerClientError } from './client-errors.js';
import { failureOf, fastLane, type FastLane } from './fast-lane.js';
import { HTTP2_SETTINGS, plainServerFactory } from './plain-server.js';
import { limitRequestArrival } from './request-arrival.js';
import { staticAssetRoutes } from './routes/static-assets.js';
import { webPageRoutes } from './routes/web-pages.js';
import { installZodValidation } from './zod-type-provider.js';
import { RouteCatalog } from './openapi/route-catalog.js';
import { packageVersion } from './openapi/package-version.js';
import { openApiRoutes } from './routes/openapi.js';
import { oauthRoutes } from './routes/oauth.js';
import { OidcUsers } from '../auth/oidc-users.js';
import { providerRecheck } from '../auth/provider-recheck.js';
import { SealedSecrets } from '../auth/sealed-secrets.js';
import { DeviceFlowService } from '../services/device-flow.js';

export interface AppOptions {
  /** The registry's base URL, without trailing slash; known once the server listens. */
  publicUrl: () => string;
  logger?: FastifyBaseLogger | false;
  tls?: { key: Buffer; cert: Buffer };
  /** Called after each answered write (publish, yank, owners). */
  onWrite?: () => void;
  /** The OpenID provider, discovered before the app is built (required when [oidc] is configured). */
  oidc?: OidcLogin;
  /**
   * Index and download GETs answered before fastify (fast-lane.ts); on unless false. Plain HTTP
   * only (HTTP/1.1 and the HTTP/2 it switches to): with TLS fastify's server answers everything.
   */
  fastLane?: boolean;
}

/** How long a docs page's ticket lets its files load (auth/docs-tickets.ts). */
const DOCS_TICKET_LIFETIME_MS = 3_600_000;

export function registryUrls(publicUrl: string) {
  return { index: `${publicUrl}/index/`, api: publicUrl, dl: `${publicUrl}/api/v1/crates`, login: `${publicUrl}/me` };
}

/**
 * How long any request may take to arrive, headers and body, before its connection is closed: as
 * long as the slowest upload the settings allow (a publish or a docs archive, after its wait for a
 * turn), so that their own deadlines keep their meaning. Without it, a client that stops sending a
 * body holds its connection for good.
 */
function requestArrivalLimitMs({ publish, docs }: Registry['config']): number {
  return 1000 * (publish.queue_seconds + Math.max(publish.upload_timeout_seconds, docs.upload_timeout_seconds));
}

export function buildApp(registry: Registry, options: AppOptions): FastifyInstance {
  const { config } = registry;
  const arrivalLimitMs = requestArrivalLimitMs(config);
  const trust = proxyTrust(config.server.trusted_proxies);
  const common = {
    loggerInstance: options.logger || undefined,
    logger: options.logger === false ? false : undefined,
    // No access log on the hot path: per-request lines cost a visible share of index throughput.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
    // Upper bound for any body; the publish route sets its own limit.
    bodyLimit: 1024 * 1024,
    // fastify's default is none. node's plain server enforces it per request; on HTTP/2 streams and
    // over TLS, request-arrival.ts does (and over TLS a connection silent for as long is closed).
    requestTimeout: arrivalLimitMs,
    clientErrorHandler: answerClientError,
    // `request.ip`: X-Forwarded-For is read from the trusted proxies only (client-address.ts).
    trustProxy: trust ?? false,
  };
  // Set once the routes' options exist (below); until then, and while closing, fastify answers all.
  const fast: { lane?: FastLane } = {};
  let closing = false;
  const app = (options.tls
    ? Fastify({
        ...common,
        http2: true,
        https: { allowHTTP1: true, key: options.tls.key, cert: options.tls.cert, settings: HTTP2_SETTINGS },
        connectionTimeout: arrivalLimitMs,
      })
    : Fastify({
        ...common,
        serverFactory: plainServerFactory({
          answered: (req, res) => options.fastLane !== false && !closing && fast.lane !== undefined && fast.lane(req, res),
          onHttp2Upgrade: () => registry.metrics.http2Upgrade(),
        }),
      })) as unknown as FastifyInstance;
  if (options.tls) limitRequestArrival(app.server, arrivalLimitMs);
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  const urls = () => registryUrls(options.publicUrl());
  let configJson: { base: string; body: Buffer } | undefined;
  const renderConfigJson = () => {
    const base = options.publicUrl();
    if (configJson?.base !== base) {
      const u = registryUrls(base);
      const body = Buffer.from(JSON.stringify({ dl: u.dl, api: u.api, 'auth-required': config.auth.required }));
      configJson = { base, body };
    }
    return configJson.body;
  };

  app.decorateRequest('principal', null);
  app.setErrorHandler(apiErrors({ loginUrl: () => urls().login, audit: registry.audit }));
  installZodValidation(app);
  // Every route registered from here on, for the API description (routes/openapi.ts).
  const catalog = new RouteCatalog(app);

  // Every answered request, by route pattern (never the raw URL), method and status. Callback-style
  // and synchronous: it runs after the response is sent, on every request of the hot path.
  const { metrics } = registry;
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observeRequest(request.routeOptions.url, request.method, reply.statusCode, reply.elapsedTime);
    done();
  });
  const onFailure = (reason: Parameters<typeof metrics.authFailure>[0]) => metrics.authFailure(reason);

  // Reads: a token when auth.required is on.
  const authenticateRead = authenticate(registry.auth, {
    tokenRequired: config.auth.required,
    scope: 'read',
    failedAuthLimiter: registry.failedAuthLimiter,
    onFailure,
  });
  // The supply-chain policy at the index and download routes (src/policy/).
  const policyGate = { engine: registry.supplyChain.engine, audit: registry.audit };
  const indexOptions: SparseIndexOptions = {
    indexFiles: registry.indexFiles,
    policy: registry.policy,
    audit: registry.audit,
    configJson: renderConfigJson,
    mirror: registry.mirror,
    supplyChain: registry.supplyChain.engine,
  };
  const downloadOptions: DownloadOptions = {
    downloads: registry.downloads,
    policy: registry.policy,
    audit: registry.audit,
    counter: registry.downloadCounter,
    // Mirrored crates in the main index: their downloads share the local route.
    mirrorHandover: mirrorHandover(registry.mirror, policyGate, registry.policy),
    gate: policyGate,
    indexFiles: registry.indexFiles,
  };
  fast.lane = fastLane(
    {
      auth: registry.auth,
      authentication: { tokenRequired: config.auth.required, scope: 'read' },
      index: indexOptions,
      downloads: downloadOptions,
      metrics,
      log: app.log,
      clientAddress: clientAddressOf(trust),
    },
    (req, res) => app.routing(req, res),
  );
  void app.register(async (reads) => {
    // The hot path: no child logger per request (the error log line carries the request id).
    reads.setChildLoggerFactory((logger) => logger);
    reads.addHook('onRequest', authenticateRead);
    // A request the lean path took and failed (fast-lane.ts): its error, answered as the route's own.
    reads.addHook('onRequest', (request, _reply, done) => done(failureOf(request.raw)));
    if (!config.auth.required) catalog.tokenOptionalIn(reads);
    await reads.register(sparseIndexRoutes, indexOptions);
    await reads.register(mirrorRoutes, {
      mirror: registry.mirror,
      indexFiles: registry.indexFiles,
      publicUrl: options.publicUrl,
      authRequired: config.auth.required,
      gate: policyGate,
    });
    await reads.register(mirrorCrateViewRoutes, { findings: registry.crateFindings });
    await reads.register(downloadRoutes, downloadOptions);
    await reads.register(cratesReadApiRoutes, { search: registry.search, owners: registry.owners });
    await reads.register(docsReadApiRoutes, { docs: registry.docs, publicUrl: options.publicUrl, findings: registry.crateFindings });
    const policyCheck = new PolicyCheck(
      registry.supplyChain.engine,
      registry.indexFiles,
      registry.policy,
      registry.mirror,
      options.publicUrl,
    );
    await reads.register(policyCheckRoutes, { check: policyCheck });
    const describe = { version: packageVersion(), authRequired: config.auth.required };
    await reads.register(openApiRoutes, { catalog, publicUrl: options.publicUrl, describe });
  });

  // Writes: always a token.
  void app.register(async (writes) => {
    writes.addHook(
      'onRequest',
      authenticate(registry.auth, { tokenRequired: true, failedAuthLimiter: registry.failedAuthLimiter, onFailure }),
    );
    const { onWrite } = options;
    if (onWrite) writes.addHook('onResponse', async () => onWrite());
    acceptRawBodies(writes);
    const { publish } = config;
    await writes.register(cratesApiRoutes, {
      publish: registry.publish,
      yank: registry.yank,
      owners: registry.owners,
      audit: registry.audit,
      docs: registry.docs,
      publishLimits: {
        maxSize: publish.max_size,
        maxInFlight: publish.max_in_flight,
        maxInFlightPerUser: publish.max_in_flight_per_user,
        queueSeconds: publish.queue_seconds,
        uploadTimeoutSeconds: publish.upload_timeout_seconds,
      },
    });
    await writes.register(docsUploadRoutes, {
      docs: registry.docs,
      audit: registry.audit,
      publicUrl: options.publicUrl,
      maxArchiveSize: config.docs.max_archive_size,
      maxUploadsInFlight: config.docs.max_uploads_in_flight,
      uploadTimeoutSeconds: config.docs.upload_timeout_seconds,
      queueSeconds: publish.queue_seconds,
    });
    await writes.register(myTokenRoutes, { accounts: registry.accounts, audit: registry.audit });
    await writes.register(currentTokenRoutes, { accounts: registry.accounts });
    await writes.register(adminAuditRoutes, { auditQuery: registry.auditQuery });
    const { webhookEndpoints: endpoints, webhooks, audit } = registry;
    await writes.register(adminWebhookRoutes, { endpoints, webhooks, audit });
    await writes.register(adminPolicyRoutes, { policy: registry.supplyChain });
    await writes.register(adminAdvisoryRoutes, {
      advisories: registry.metadata.advisories,
      upstreams: config.upstreams.map((u) => u.name),
    });
  });

  // Sign-in pages, trusted publishing for CI, the pages' static files, and probes: no token.
  const webSessions = new WebSessions(
    registry.metadata.secrets,
    registry.accounts,
    registry.auth,
    registry.failedAuthLimiter,
    options.publicUrl,
  );
  void app.register(identityRoutes, {
    registry,
    publicUrl: options.publicUrl,
    indexUrl: () => urls().index,
    oidc: options.oidc,
    webSessions,
  });
  void app.register(staticAssetRoutes);
  // Terminal sign-in (issue 17): OAuth endpoints without a token; the approval page is a web page.
  const deviceSettings = config.auth.device_flow;
  const deviceFlow = new DeviceFlowService({
    repos: registry.metadata,
    audit: registry.audit,
    settings: {
      accessTokenLifetimeMs: deviceSettings.access_token_lifetime,
      refreshTokenLifetimeMs: deviceSettings.refresh_token_lifetime,
      codeLifetimeMs: deviceSettings.code_lifetime,
      pollIntervalMs: deviceSettings.poll_interval,
    },
    sealed: new SealedSecrets(registry.metadata.secrets),
    providerRecheck:
      options.oidc && config.oidc
        ? providerRecheck(options.oidc, new OidcUsers(registry.metadata, config.oidc), registry.metadata)
        : undefined,
    applyChanges: () => registry.changes.poll(),
    now: registry.now,
  });
  void app.register(oauthRoutes, { deviceFlow, limiter: registry.deviceFlowLimiter, publicUrl: options.publicUrl });
  // The web interface: a browser session instead of a token (web-context.ts, inside the plugin).
  void app.register(webPageRoutes, { registry, webSessions, indexUrl: () => urls().index, deviceFlow, oidc: options.oidc });
  // Rustdoc pages: sandboxed, reached through capability tickets (routes/docs-pages.ts).
  void app.register(docsPageRoutes, {
    docs: registry.docs,
    store: registry.docsStore,
    tickets: new DocsTickets(registry.metadata.secrets, DOCS_TICKET_LIFETIME_MS, registry.now),
    tokens: registry.metadata.tokens,
    policy: registry.policy,
    sessions: webSessions,
    audit: registry.audit,
    authenticateRead,
    signInRequired: config.auth.required,
    now: registry.now,
  });
  void app.register(healthRoutes, { metadata: registry.metadata, blobs: registry.blobs, config: registry.config });
  installUnmatchedRoutes(app, { authenticateRead, sessions: webSessions, signInRequired: config.auth.required });
  // Prometheus scrapes: no registry token; `metrics.token` when set (see routes/metrics.ts).
  void app.register(metricsRoutes, { metrics, token: config.metrics.token });

  return app;
}
