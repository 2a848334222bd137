// The sign-in forms' posts: `POST /me/login` (local password) and `POST /me/token-sign-in` (a token
// with every scope, how the first admin gets in). Each must come from this registry's own sign-in
// page with the CSRF token of its flow cookie. A wrong password shows the form again; any other
// refusal is a sign-in page.

import { RegistryError } from '../../domain/errors.js';
import { auditSource } from '../audit-source.js';
import { formField } from '../form-body.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import type { SignInRouteOptions } from './sign-in-pages.js';

export const signInFormRoutes: RoutePlugin<SignInRouteOptions> = async (app, { flows, signInErrors }) => {
  const { deps } = flows;

  app.post('/me/token-sign-in', { errorHandler: signInErrors }, async (request, reply) => {
    const flow = await flows.formFlow(request);
    const user = await deps.webSessions.userOfToken(formField(request.body, 'token'), request.ip);
    return flows.signedIn(request, reply, user, { ...flow, purpose: 'web' }, 'token');
  });

  app.post('/me/login', { errorHandler: signInErrors }, async (request, reply) => {
    const flow = await flows.formFlow(request);
    const login = formField(request.body, 'login');
    let user;
    try {
      user = await deps.passwords.verify(login, formField(request.body, 'password'), request.ip);
    } catch (error) {
      if (!(error instanceof RegistryError) || error.code !== 'wrong-password') throw error;
      deps.audit.record('login-failed', auditSource(request), { login: login.slice(0, 64), detail: error.message });
      return flows.signInPage(request, reply, flow, { status: 401, problem: error.message });
    }
    request.log.info({ login: user.login }, 'signed in with a password');
    return flows.signedIn(request, reply, user, flow, 'password');
  });
};
