// The routes the app registered, as fastify saw them (method, URL pattern, schema), collected by
// an onRoute hook on the root instance. The API description is made from this list, never from a
// list of its own, so a route that exists is described, or the API test says it is not.

import type { FastifyInstance, FastifySchema } from 'fastify';

export interface CatalogRoute {
  method: string;
  url: string;
  schema: FastifySchema | undefined;
  /** Answered without a token too (the reads, when auth.required is off). */
  tokenOptional: boolean;
}

export class RouteCatalog {
  readonly routes: CatalogRoute[] = [];

  /** Call before the route groups are registered (app.ts does it in buildApp). */
  constructor(app: FastifyInstance) {
    app.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) this.routes.push({ method, url: route.url, schema: route.schema, tokenOptional: false });
    });
  }

  /** Marks the routes a group registers from now on as answered without a token too. */
  tokenOptionalIn(group: FastifyInstance): void {
    group.addHook('onRoute', (route) => {
      const methods = new Set([route.method].flat());
      for (const entry of this.routes) if (entry.url === route.url && methods.has(entry.method)) entry.tokenOptional = true;
    });
  }
}
