// What every browsing page needs: the signed-in user from the session cookie (as request.principal,
// so access rules apply to pages exactly as to the API), the session's CSRF token, a check of that
// token on every form post, and errors shown as pages (`pageErrors` in error-mapper.ts). When the
// registry requires authentication, a visitor without a session is sent to sign in first, whatever
// the method.

import type { FastifyInstance } from 'fastify';
import type { WebSessions } from '../auth/web-sessions.js';
import { forbidden } from '../domain/errors.js';
import type { AuditRecorder } from '../services/audit-recorder.js';
import { crossSiteRefusal } from './cross-site.js';
import { pageErrors } from './error-mapper.js';
import { formField } from './form-body.js';
import { signInUrl } from './page-viewer.js';

export interface WebContextOptions {
  sessions: WebSessions;
  audit: AuditRecorder;
  /** auth.required: no page without signing in. */
  signInRequired: boolean;
}

export function installWebContext(app: FastifyInstance, options: WebContextOptions): void {
  app.decorateRequest('csrf', null);

  app.addHook('onRequest', async (request, reply) => {
    const cookieSent = request.headers.cookie?.includes('ck_session=') ?? false;
    request.principal = cookieSent ? await options.sessions.principal(request.headers.cookie, request.ip) : null;
    if (request.principal) request.csrf = await options.sessions.csrfToken(request.principal);
    else if (cookieSent) reply.header('set-cookie', options.sessions.clear());
    // Every method, not only GET: HEAD (which fastify adds to every GET route) and form posts get
    // the same answer as GET, decided before any route looks at what exists.
    if (!request.principal && options.signInRequired) {
      const next = request.method === 'GET' || request.method === 'HEAD' ? request.url : '/';
      return reply.header('cache-control', 'no-store').redirect(signInUrl(next), 303);
    }
    return undefined;
  });

  // Every form post comes from this registry's own pages (cross-site.ts), and carries the session's
  // CSRF token (and comes from a signed-in browser). Checked once the body is read and before the
  // route's schemas look at it, so that a forged post is refused as forged whatever it carries.
  app.addHook('preValidation', async (request) => {
    if (request.method !== 'POST') return;
    const crossSite = crossSiteRefusal(request.headers, options.sessions.ownOrigin());
    if (crossSite) throw crossSite;
    // Signing out without a session (it expired meanwhile) only clears the cookie: nothing to forge.
    if (!request.principal && request.routeOptions.url === '/sign-out') return;
    if (!request.principal || !(await options.sessions.csrfMatches(request.principal, formField(request.body, 'csrf')))) {
      throw forbidden('csrf', 'this form expired or did not come from this registry; reload the page and try again');
    }
  });

  app.setErrorHandler(pageErrors({ audit: options.audit }));
}
