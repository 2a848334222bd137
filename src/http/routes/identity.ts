// The identity group, without a token: /me and the sign-in pages (OIDC and local passwords) and
// trusted publishing for CI. Every sign-in also starts a browser session (auth/web-sessions.ts).
// The OpenID provider's configuration comes in already discovered (server.ts discovers it before
// listening). Forms post `application/x-www-form-urlencoded` here, for the whole group.

import type { OidcLogin } from '../../auth/oidc-client.js';
import { OidcUsers } from '../../auth/oidc-users.js';
import { PasswordLogin, passwordLimits } from '../../auth/password.js';
import { SealedSecrets } from '../../auth/sealed-secrets.js';
import { SessionCookies } from '../../auth/session-cookie.js';
import { TrustedPublishing } from '../../auth/trusted-publishing.js';
import type { WebSessions } from '../../auth/web-sessions.js';
import { RateLimiter } from '../../lib/rate-limiter.js';
import type { Registry } from '../../registry.js';
import { signInErrors } from '../error-mapper.js';
import { acceptFormBodies } from '../form-body.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import { meRoutes } from './me.js';
import { oidcCallbackRoutes } from './oidc-callback.js';
import { SignInFlows } from './sign-in-flows.js';
import { signInFormRoutes } from './sign-in-forms.js';
import { signInPageRoutes } from './sign-in-pages.js';
import { trustedPublishingRoutes } from './trusted-publishing.js';

export interface IdentityOptions {
  registry: Registry;
  publicUrl: () => string;
  indexUrl: () => string;
  oidc: OidcLogin | undefined;
  webSessions: WebSessions;
}

export const identityRoutes: RoutePlugin<IdentityOptions> = async (app, options) => {
  const { registry } = options;
  const { config } = registry;
  if (config.oidc !== undefined && options.oidc === undefined) {
    throw new Error('[oidc] is configured but its provider was not discovered: call OidcLogin.discover before building the app');
  }
  acceptFormBodies(app);
  const sealed = new SealedSecrets(registry.metadata.secrets);
  const flows = new SignInFlows({
    accounts: registry.accounts,
    users: registry.metadata.users,
    oidc: options.oidc && config.oidc ? { login: options.oidc, users: new OidcUsers(registry.metadata, config.oidc) } : undefined,
    passwords: new PasswordLogin(registry.metadata.users, passwordLimits(config.login)),
    startsByAddress: new RateLimiter(config.login.attempts_per_minute_per_address, 'sign-in attempts from this address'),
    sessions: new SessionCookies(registry.metadata.secrets, () => options.publicUrl().startsWith('https:')),
    webSessions: options.webSessions,
    audit: registry.audit,
    registryName: config.login.registry_name,
    publicUrl: options.publicUrl,
    keepProviderGrant: async (sessionTokenId, userId, refreshToken) =>
      registry.metadata.deviceFlow.storeProviderGrant(sessionTokenId, userId, await sealed.seal(refreshToken), new Date().toISOString()),
  });
  const signIn = { flows, signInErrors: signInErrors({ audit: registry.audit }) };
  await app.register(signInPageRoutes, signIn);
  await app.register(oidcCallbackRoutes, signIn);
  await app.register(signInFormRoutes, signIn);
  await app.register(meRoutes, { ...signIn, indexUrl: options.indexUrl, registryName: config.login.registry_name });
  await app.register(trustedPublishingRoutes, {
    trustedPublishing: new TrustedPublishing(config.trusted_publishing, registry.metadata.idTokens, registry.accounts),
    failedAuthLimiter: registry.failedAuthLimiter,
  });
};
