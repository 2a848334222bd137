// What every browsing page needs: the signed-in user from the session cookie (as request.principal,
// so access rules apply to pages exactly as to the API), the session's CSRF token, a check of that
// token on every form post, and errors shown as pages. When the registry requires authentication,
// a visitor without a session is sent to sign in first, whatever the method.

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSessions } from '../auth/web-sessions.js';
import { RegistryError, forbidden, unauthenticated } from '../domain/errors.js';
import type { TokenPrincipal } from '../ports/metadata-store.js';
import type { AuditRecorder } from '../services/audit-recorder.js';
import { HIDDEN_CRATE_CODE } from '../services/crate-pages.js';
import { auditSource } from './audit-source.js';
import { crossSiteRefusal } from './cross-site.js';
import { STATUS_OF_KIND } from './error-mapper.js';
import { formField } from './form-body.js';
import { html, sendPage, type PageOptions } from './pages/html.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The CSRF token of the request's session; null without one. */
    csrf: string | null;
  }
}

export interface WebContextOptions {
  sessions: WebSessions;
  audit: AuditRecorder;
  /** auth.required: no page without signing in. */
  signInRequired: boolean;
}

/** Where to send someone who must sign in first, coming back to `url` afterwards. */
export const signInUrl = (url: string) => `/sign-in?next=${encodeURIComponent(url)}`;

/** A path on this site to return to after signing in; anything else becomes `/`. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return '/';
  return /[\u0000-\u001f\\]/.test(next) ? '/' : next;
}

export function pageOptions(request: FastifyRequest, extra: Omit<PageOptions, 'viewer'> = {}): PageOptions {
  const p = request.principal;
  return { ...extra, viewer: p && request.csrf ? { login: p.login, isAdmin: p.isAdmin, csrf: request.csrf } : null };
}

/** The signed-in user; unauthenticated (a redirect to sign-in) without one. */
export function viewerOf(request: FastifyRequest): TokenPrincipal {
  if (!request.principal) throw unauthenticated('sign-in-required', 'sign in to see this page');
  return request.principal;
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
  // CSRF token (and comes from a signed-in browser).
  app.addHook('preHandler', async (request) => {
    if (request.method !== 'POST') return;
    const crossSite = crossSiteRefusal(request.headers, options.sessions.ownOrigin());
    if (crossSite) throw crossSite;
    // Signing out without a session (it expired meanwhile) only clears the cookie: nothing to forge.
    if (!request.principal && request.routeOptions.url === '/sign-out') return;
    if (!request.principal || !(await options.sessions.csrfMatches(request.principal, formField(request.body, 'csrf')))) {
      throw forbidden('csrf', 'this form expired or did not come from this registry; reload the page and try again');
    }
  });

  app.setErrorHandler((error: FastifyError | RegistryError, request, reply: FastifyReply) => {
    if (error instanceof RegistryError) {
      if (error.code === 'sign-in-required') return reply.header('cache-control', 'no-store').redirect(signInUrl(request.url), 303);
      if (error.kind === 'forbidden' || error.code === HIDDEN_CRATE_CODE) {
        options.audit.record('access-refused', auditSource(request), { detail: `page ${request.url.split('?')[0]}: ${error.message}` });
      }
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      const status = STATUS_OF_KIND[error.kind];
      return sendPage(reply, status, status === 404 ? 'Not found' : 'Cannot do that', html`<p class="refusal" id="problem">${error.message}</p>`, pageOptions(request));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendPage(reply, status, 'Bad request', html`<p class="refusal" id="problem">${error.message}</p>`, pageOptions(request));
    request.log.error({ err: error, reqId: request.id, url: request.url }, 'page failed');
    return sendPage(reply, 500, 'Something went wrong', html`<p class="refusal">The server log has the cause (request id ${request.id}).</p>`, pageOptions(request));
  });
}
