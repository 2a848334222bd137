// `GET /api/v1/openapi.json`: the OpenAPI description of this registry's API, made from the routes
// the app registered (openapi/openapi-document.ts). It is in the reads group, so it asks for the
// same token as the rest of the API. Made once per base URL, after every route is registered.

import { buildOpenApiDocument, OPENAPI_PATH, type ApiDescriptionOptions } from '../openapi/openapi-document.js';
import type { RouteCatalog } from '../openapi/route-catalog.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface OpenApiRouteOptions {
  catalog: RouteCatalog;
  publicUrl: () => string;
  describe: Omit<ApiDescriptionOptions, 'serverUrl'>;
}

export const openApiRoutes: RoutePlugin<OpenApiRouteOptions> = async (app, { catalog, publicUrl, describe }) => {
  let made: { base: string; body: string } | undefined;
  const schema = {
    summary: 'This description of the API (OpenAPI 3.1)',
    tags: ['meta'],
    rawSuccess: { status: 200, mediaType: 'application/json', description: 'an OpenAPI 3.1 document' },
  };
  app.get(OPENAPI_PATH, { schema }, async (_request, reply) => {
    const base = publicUrl();
    if (made?.base !== base) made = { base, body: JSON.stringify(buildOpenApiDocument(catalog.routes, { ...describe, serverUrl: base })) };
    return reply.header('cache-control', 'private, no-cache').type('application/json').send(made.body);
  });
};
