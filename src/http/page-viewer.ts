// Who is looking at a page: the signed-in user of the browser session (request.principal, set by
// web-context.ts) and the session's CSRF token, as the pages' layout and routes need them.

import type { FastifyRequest } from 'fastify';
import { unauthenticated } from '../domain/errors.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import type { PageOptions } from './pages/html.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The CSRF token of the request's session; null without one. */
    csrf: string | null;
  }
}

/** Where to send someone who must sign in first, coming back to `url` afterwards. */
export const signInUrl = (url: string) => `/sign-in?next=${encodeURIComponent(url)}`;

export function pageOptions(request: FastifyRequest, extra: Omit<PageOptions, 'viewer'> = {}): PageOptions {
  const p = request.principal;
  return { ...extra, viewer: p && request.csrf ? { login: p.login, isAdmin: p.isAdmin, csrf: request.csrf } : null };
}

/** The signed-in user; unauthenticated (a redirect to sign-in) without one. */
export function viewerOf(request: FastifyRequest): TokenPrincipal {
  if (!request.principal) throw unauthenticated('sign-in-required', 'sign in to see this page');
  return request.principal;
}
