// The pages' stylesheet and script (pages/assets.ts): public, immutable, cached for a year.

import { STATIC_ASSETS } from '../pages/assets.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export const staticAssetRoutes: RoutePlugin = async (app) => {
  for (const asset of STATIC_ASSETS) {
    app.get(asset.path, async (_request, reply) =>
      reply
        .type(asset.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .send(asset.body),
    );
  }
};
