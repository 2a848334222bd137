// `GET /me/callback`: where the OpenID provider sends the browser back. The flow cookie must match
// the provider's answer; the identity becomes a local user (auth/oidc-users.ts) and the sign-in
// ends (sign-in-flows.ts). A failed callback clears the flow cookie and shows why.

import { forbidden, invalid } from '../../domain/errors.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import { isForDevice } from './sign-in-flows.js';
import type { SignInRouteOptions } from './sign-in-pages.js';

export const oidcCallbackRoutes: RoutePlugin<SignInRouteOptions> = async (app, { flows, signInErrors }) => {
  const { deps } = flows;
  app.get('/me/callback', { errorHandler: signInErrors }, async (request, reply) => {
    try {
      if (!deps.oidc) throw invalid('oidc-not-configured', 'this registry has no OpenID provider configured');
      const flow = await deps.sessions.unseal(request.headers.cookie);
      if (!flow?.state || !flow.nonce || !flow.codeVerifier) {
        throw invalid('login-flow-missing', 'this sign-in expired or was started in another browser; start again at /me');
      }
      // The provider's parameters, exactly as sent: the OIDC client checks them.
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      const identity = await deps.oidc.login.finish(new URL(deps.oidc.login.callbackUrl(deps.publicUrl()) + query), {
        state: flow.state,
        nonce: flow.nonce,
        codeVerifier: flow.codeVerifier,
      });
      // A sign-in to approve a device asked for a refresh token; without one, /device would only send
      // the browser back here, so the sign-in says what the provider must allow instead.
      if (flow.purpose === 'web' && isForDevice(flow.next) && deps.oidc.login.offersOfflineAccess() && !identity.refreshToken) {
        throw forbidden(
          'oidc-no-refresh-token',
          "the identity provider gave no refresh token for this sign-in, so a device approved with it could never be checked with the provider again; an administrator must let the registry's client at the provider use offline_access (refresh tokens)",
        );
      }
      const user = await deps.oidc.users.signIn(identity);
      request.log.info({ login: user.login, sub: identity.subject }, 'signed in with OIDC');
      return await flows.signedIn(request, reply, user, flow, 'OpenID Connect', identity.refreshToken);
    } catch (error) {
      reply.header('set-cookie', deps.sessions.clear());
      throw error;
    }
  });
};
