// Wires the identity routes of one app: /me and its sign-in pages (OIDC and local passwords), and
// trusted publishing for CI. The OpenID provider's configuration comes in already discovered
// (server.ts discovers it before listening).

import type { FastifyInstance } from 'fastify';
import type { OidcLogin } from '../../auth/oidc-client.js';
import { OidcUsers } from '../../auth/oidc-users.js';
import { PasswordLogin, passwordLimits } from '../../auth/password.js';
import { SessionCookies } from '../../auth/session-cookie.js';
import { TrustedPublishing } from '../../auth/trusted-publishing.js';
import type { WebSessions } from '../../auth/web-sessions.js';
import type { Registry } from '../../registry.js';
import { RateLimiter } from '../../lib/rate-limiter.js';
import { meRoutes } from './me.js';
import { loginRoutes } from './login.js';
import { trustedPublishingRoutes } from './trusted-publishing.js';

export interface IdentityOptions {
  publicUrl: () => string;
  indexUrl: () => string;
  oidc: OidcLogin | undefined;
  webSessions: WebSessions;
}

export function identityRoutes(app: FastifyInstance, registry: Registry, options: IdentityOptions): void {
  const { config } = registry;
  if (config.oidc !== undefined && options.oidc === undefined) {
    throw new Error('[oidc] is configured but its provider was not discovered: call OidcLogin.discover before building the app');
  }
  const startsByAddress = new RateLimiter(config.login.attempts_per_minute_per_address, 'sign-in attempts from this address');
  const { signIn } = loginRoutes(app, {
    accounts: registry.accounts,
    users: registry.metadata.users,
    oidc: options.oidc && config.oidc ? { login: options.oidc, users: new OidcUsers(registry.metadata, config.oidc) } : undefined,
    passwords: new PasswordLogin(registry.metadata.users, passwordLimits(config.login)),
    startsByAddress,
    sessions: new SessionCookies(registry.metadata.secrets, () => options.publicUrl().startsWith('https:')),
    webSessions: options.webSessions,
    audit: registry.audit,
    registryName: config.login.registry_name,
    publicUrl: options.publicUrl,
  });
  meRoutes(app, { indexUrl: options.indexUrl, registryName: config.login.registry_name }, signIn);
  trustedPublishingRoutes(app, {
    trustedPublishing: new TrustedPublishing(config.trusted_publishing, registry.metadata.idTokens, registry.accounts),
    failedAuthLimiter: registry.failedAuthLimiter,
  });
}
