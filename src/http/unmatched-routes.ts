// Requests that match no route. A path under the registry's protected areas gets the refusal that
// a GET of that area gets without valid credentials, whatever the method (OPTIONS, PATCH, ...):
// 401 for the index and the API, a redirect to sign in for the pages. Only a caller who would be
// let in learns that there is no such path. Public paths (sign-in, probes, static files) and
// callers with credentials get cargo's 404 shape, or a page for a browser.

import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { WebSessions } from '../auth/web-sessions.js';
import { sendNoSuchPath } from './error-mapper.js';
import { signInUrl } from './page-viewer.js';

export interface UnmatchedRouteOptions {
  /** The read group's authentication hook (authentication.ts): what GET /index/... would run. */
  authenticateRead: onRequestHookHandler;
  sessions: WebSessions;
  /** auth.required: the pages need a session. */
  signInRequired: boolean;
}

const PUBLIC = [
  /^\/me(\/|$)/,
  /^\/sign-in$/,
  /^\/static\//,
  /^\/healthz$/,
  /^\/readyz$/,
  /^\/metrics$/,
  /^\/api\/v1\/trusted_publishing\//,
  // Terminal sign-in (routes/oauth.ts): the client has no token yet; nothing here names a crate.
  /^\/\.well-known\/oauth-authorization-server$/,
  /^\/oauth\//,
  // Rustdoc files behind a capability ticket (routes/docs-pages.ts): the ticket, not a session,
  // says who reads; a missing or stale one is sent back to /docs/<crate>/..., which asks for a session.
  /^\/docs\/~\//,
];
const TOKEN_AREAS = [/^\/index(\/|$)/, /^\/api(\/|$)/, /^\/mirrors(\/|$)/];

function runHook(hook: onRequestHookHandler, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  return new Promise((resolve, reject) => {
    void (hook as (req: FastifyRequest, rep: FastifyReply, done: (error?: Error) => void) => void).call(
      request.server,
      request,
      reply,
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

export function installUnmatchedRoutes(app: FastifyInstance, options: UnmatchedRouteOptions): void {
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0]!;
    if (!PUBLIC.some((p) => p.test(path))) {
      const tokenArea = TOKEN_AREAS.some((p) => p.test(path));
      // A page path: a browser session or, for scripts, a token will do.
      const signedIn = !tokenArea && (await options.sessions.principal(request.headers.cookie, request.ip)) !== null;
      if (tokenArea || (!signedIn && request.headers.authorization !== undefined)) {
        await runHook(options.authenticateRead, request, reply);
      } else if (!signedIn && options.signInRequired) {
        const next = request.method === 'GET' || request.method === 'HEAD' ? request.url : '/';
        return reply.header('cache-control', 'no-store').redirect(signInUrl(next), 303);
      }
    }
    // A person following a stale link gets a page; cargo and scripts get cargo's JSON shape.
    return sendNoSuchPath(request, reply, path);
  });
}
