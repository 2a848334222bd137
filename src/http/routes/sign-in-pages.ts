// Where sign-ins start. `GET /sign-in` offers the configured ways to sign in to the web pages and
// returns to the page the visitor came from (`next`); `GET /me/local` is the local form even beside
// OIDC (an emergency admin); `GET /me/oidc` goes to the OpenID provider.

import type { ErrorHandler } from '../error-mapper.js';
import { signInQuery } from '../schemas/sign-in-query.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import type { SignInFlows } from './sign-in-flows.js';

export interface SignInRouteOptions {
  flows: SignInFlows;
  /** Refusals as sign-in pages (`signInErrors`), for the routes that show them. */
  signInErrors: ErrorHandler;
}

export const signInPageRoutes: RoutePlugin<SignInRouteOptions> = async (app, { flows, signInErrors }) => {
  app.get('/sign-in', { schema: { querystring: signInQuery } }, async (request, reply) =>
    flows.signInPage(request, reply, { purpose: 'web', next: request.query.next }),
  );

  app.get('/me/local', { schema: { querystring: signInQuery } }, async (request, reply) => {
    if (!(await flows.deps.users.anyPasswordSet())) return reply.redirect('/me', 302);
    return flows.signInPage(request, reply, { purpose: request.query.purpose }, { oidc: false });
  });

  app.get('/me/oidc', { schema: { querystring: signInQuery }, errorHandler: signInErrors }, async (request, reply) =>
    flows.startOidc(request, reply, { purpose: request.query.purpose, next: request.query.next }),
  );
};
