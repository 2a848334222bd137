// What a route says about itself for the API description (openapi/openapi-document.ts). It rides in
// the route's `schema`, next to the zod schemas fastify validates with, so a route and its
// description are written, reviewed and changed together. fastify ignores these keys: a route that
// declares only them (the index and download GETs) compiles no validator and pays nothing per request.

import type { z } from 'zod';

export interface RouteDocs {
  /** One line: what the operation does. A route under a documented prefix without one fails the API test. */
  summary?: string;
  /** Longer text (CommonMark): what cargo sends, what comes back, what is refused. */
  description?: string;
  /** The groups the operation is listed under. */
  tags?: readonly string[];
  /** `none`: the route takes no cratekeeper token (trusted publishing exchanges a CI ID token instead). */
  authentication?: 'token' | 'none';
  /**
   * Query parameters the route's service checks itself (it shares them with the pages), described
   * here and never validated by the route.
   */
  documentedQuery?: z.ZodObject;
  /** A body the route reads as bytes, with no schema (publish): its media type and layout. */
  rawBody?: { mediaType: string; description: string };
  /** The success answer when it is not JSON: its status, media type and what it holds. */
  rawSuccess?: { status: number; mediaType: string; description: string };
}

declare module 'fastify' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface FastifySchema extends RouteDocs {}
}
