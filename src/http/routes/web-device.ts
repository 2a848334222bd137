// `/device`: where a person approves or refuses a terminal's sign-in (services/device-flow.ts).
// Behind the browser session like every page (web-context.ts: sign-in first, CSRF on the posts);
// an approval takes the provider grant of the sign-in behind the session, if it asked for one.
// A person from the OpenID provider whose session holds no grant (signed in earlier for another
// page) is sent through the provider again first, so that every refresh of the device can ask the
// provider again; an approval without one is refused. Only a provider that offers no refresh
// tokens (`offline_access`) at all leaves their devices to the checks here.

import { z } from 'zod';
import { forbidden } from '../../domain/errors.js';
import type { TokenPrincipal } from '../../ports/tokens.js';
import type { DeviceFlow } from '../../ports/device-flow.js';
import type { Users } from '../../ports/users.js';
import type { DeviceFlowService } from '../../services/device-flow.js';
import { auditSource } from '../audit-source.js';
import { formField } from '../form-body.js';
import { pageOptions, signInUrl } from '../page-viewer.js';
import { approvalBody, codeEntryBody, decidedBody, providerSignInBody } from '../pages/device-page.js';
import { sendPage } from '../pages/html.js';
import { requestSchema, type RoutePlugin } from '../zod-type-provider.js';

export interface DevicePageDeps {
  deviceFlow: DeviceFlowService;
  grants: Pick<DeviceFlow, 'takeProviderGrant' | 'hasProviderGrant'>;
  users: Pick<Users, 'findUserById' | 'findIdentityOfUser'>;
  /** The OpenID provider, when one is configured. */
  provider?: { offersOfflineAccessNow(): Promise<boolean> };
}

/** The provider sign-in that comes back to `next` (a /device URL) with a grant (sign-in-flows.ts `isForDevice`). */
const providerSignInUrl = (next: string) => `/me/oidc?${new URLSearchParams({ purpose: 'web', next }).toString()}`;

const deviceQuery = requestSchema(
  'invalid-user-code',
  z.object({ user_code: z.string().max(40, { error: 'a code has 8 letters' }).optional() }),
);

export const devicePageRoutes: RoutePlugin<DevicePageDeps> = async (app, deps) => {
  /** A person from the provider, when it gives refresh tokens: their devices need a provider grant. */
  const grantRequired = async (viewer: TokenPrincipal): Promise<boolean> =>
    deps.provider !== undefined &&
    (await deps.users.findIdentityOfUser(viewer.userId)) !== undefined &&
    deps.provider.offersOfflineAccessNow();
  /** Such a person whose browser session holds no provider grant to give a device. */
  const needsProviderSignIn = async (viewer: TokenPrincipal): Promise<boolean> =>
    (await grantRequired(viewer)) && !(await deps.grants.hasProviderGrant(viewer.tokenId));

  app.get('/device', { schema: { querystring: deviceQuery } }, async (request, reply) => {
    const viewer = request.principal;
    if (!viewer) return reply.header('cache-control', 'no-store').redirect(signInUrl(request.url), 303);
    if (await needsProviderSignIn(viewer)) {
      return reply.header('cache-control', 'no-store').redirect(providerSignInUrl(request.url), 303);
    }
    const typed = request.query.user_code;
    if (typed === undefined || typed.trim() === '')
      return sendPage(reply, 200, 'Sign in a device', codeEntryBody({}), pageOptions(request));
    const found = await deps.deviceFlow.pendingAuthorization(typed);
    if ('problem' in found) return sendPage(reply, 404, 'Sign in a device', codeEntryBody({ ...found, typed }), pageOptions(request));
    return sendPage(
      reply,
      200,
      'Sign in a device',
      approvalBody({ authorization: found.authorization, login: viewer.login, csrf: request.csrf! }),
      pageOptions(request),
    );
  });

  for (const decision of ['approve', 'deny'] as const) {
    app.post(`/device/${decision}`, async (request, reply) => {
      const viewer = request.principal!;
      const user = await deps.users.findUserById(viewer.userId);
      const typed = formField(request.body, 'user_code');
      if (!user) return reply.redirect(signInUrl('/device'), 303);
      const required = decision === 'approve' && (await grantRequired(viewer));
      if (required && !(await deps.grants.hasProviderGrant(viewer.tokenId))) {
        const again = providerSignInUrl(`/device?${new URLSearchParams({ user_code: typed }).toString()}`);
        return sendPage(reply, 403, 'Sign in a device', providerSignInBody(again), pageOptions(request));
      }
      const result = await deps.deviceFlow.decide(typed, user, decision, auditSource(request), async () => {
        const grant = await deps.grants.takeProviderGrant(viewer.tokenId);
        // Taken meanwhile by an approval in another tab: this device would have none.
        if (required && grant === undefined) {
          throw forbidden(
            'provider-grant-missing',
            'this sign-in was used for another device meanwhile; open /device again to sign in through the identity provider',
          );
        }
        return grant;
      });
      if (result.problem !== undefined || !result.authorization) {
        return sendPage(reply, 409, 'Sign in a device', codeEntryBody({ problem: result.problem, typed }), pageOptions(request));
      }
      return sendPage(reply, 200, 'Sign in a device', decidedBody(decision, result.authorization.deviceName), pageOptions(request));
    });
  }
};
