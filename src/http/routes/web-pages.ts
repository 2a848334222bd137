// The web interface: browsing, "My tokens", admin pages and sign-out, all behind the browser
// session (web-context.ts: its hooks and its error pages reach every page plugin registered here).
// Sign-in itself lives with the identity routes (identity.ts).

import type { OidcLogin } from '../../auth/oidc-client.js';
import type { WebSessions } from '../../auth/web-sessions.js';
import type { Registry } from '../../registry.js';
import { acceptFormBodies } from '../form-body.js';
import { installWebContext } from '../web-context.js';
import { adminPageRoutes } from './web-admin.js';
import { webhookPageRoutes } from './web-admin-webhooks.js';
import type { DownloadCounts } from '../../ports/download-counts.js';
import { downloadChartSvg } from '../pages/download-chart.js';
import type { CratePageExtras } from '../pages/crate-page.js';
import { browseRoutes } from './web-browse.js';
import { docsPathOf } from './docs-api.js';
import { tokenPageRoutes } from './web-tokens.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import type { DeviceFlowService } from '../../services/device-flow.js';
import { devicePageRoutes } from './web-device.js';
import { accountPageRoutes } from './web-accounts.js';

export interface WebPageOptions {
  registry: Registry;
  webSessions: WebSessions;
  indexUrl: () => string;
  deviceFlow: DeviceFlowService;
  /** The OpenID provider, when one is configured: the /device page sends its people through it. */
  oidc?: OidcLogin;
}

const CHART_DAYS = 90;

/** A crate's downloads: per version, in all, and a chart of the last days. */
async function downloadsOf(counts: DownloadCounts, lowerName: string): Promise<CratePageExtras['downloads']> {
  const now = Date.now();
  const today = new Date(now).toISOString().slice(0, 10);
  const since = new Date(now - (CHART_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
  const [daily, perVersion] = await Promise.all([counts.daily(lowerName, since), counts.perVersion(lowerName)]);
  return {
    perVersion: new Map(perVersion.map((v) => [v.version, v.count])),
    total: perVersion.reduce((sum, v) => sum + v.count, 0),
    chartSvg: downloadChartSvg(daily, { days: CHART_DAYS, today, title: `Downloads of ${lowerName} per day, last ${CHART_DAYS} days` }),
  };
}

export const webPageRoutes: RoutePlugin<WebPageOptions> = async (app, options) => {
  const { registry } = options;
  const { config } = registry;
  const registryName = config.login.registry_name;
  acceptFormBodies(app);
  installWebContext(app, { sessions: options.webSessions, audit: registry.audit, signInRequired: config.auth.required });
  await app.register(browseRoutes, {
    search: registry.search,
    cratePages: registry.cratePages,
    readmeHtml: (name, version, repository) => registry.readmes.readmeHtml(name, version, repository),
    downloads: (name) => downloadsOf(registry.downloadCounts, name),
    docs: async (viewer, name, version) => ({
      path: (await registry.docs.hasDocs(name.toLowerCase(), version)) ? docsPathOf(name, version) : undefined,
      builds: (await registry.docs.builds(viewer, name))?.builds,
    }),
    findings: registry.crateFindings,
    registryName,
    indexUrl: options.indexUrl,
  });
  await app.register(tokenPageRoutes, {
    accounts: registry.accounts,
    audit: registry.audit,
    registryName,
    indexUrl: options.indexUrl,
    devices: (userId) => options.deviceFlow.devices(userId),
  });
  await app.register(accountPageRoutes, {
    deviceFlow: options.deviceFlow,
    accounts: registry.accounts,
    users: registry.metadata.users,
    audit: registry.audit,
    applyChanges: () => registry.changes.poll(),
  });
  await app.register(devicePageRoutes, {
    deviceFlow: options.deviceFlow,
    grants: registry.metadata.deviceFlow,
    users: registry.metadata.users,
    provider: options.oidc,
  });
  await app.register(adminPageRoutes, {
    catalog: registry.catalog,
    auditQuery: registry.auditQuery,
    accounts: registry.accounts,
    audit: registry.audit,
    accessRules: config.access.rules,
    authRequired: config.auth.required,
    policy: registry.supplyChain,
  });
  await app.register(webhookPageRoutes, { endpoints: registry.webhookEndpoints, webhooks: registry.webhooks, audit: registry.audit });

  app.post('/sign-out', async (request, reply) => {
    reply.header('set-cookie', await options.webSessions.end(request.principal));
    return reply.redirect('/', 303);
  });
};
