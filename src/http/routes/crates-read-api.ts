// The web API's reads: search and the owners list.

import { GROUP_PREFIX, type OwnersService } from '../../services/owners.js';
import type { SearchService } from '../../services/search.js';
import { crateParams } from '../schemas/crate-params.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface CratesReadApiOptions {
  search: SearchService;
  owners: OwnersService;
}

export const cratesReadApiRoutes: RoutePlugin<CratesReadApiOptions> = async (app, services) => {
  // The search service checks its own parameters (invalid-search-parameter), as the pages use it too.
  app.get<{ Querystring: { q?: string; per_page?: string; page?: string } }>('/api/v1/crates', async (request) =>
    services.search.search(request.principal, request.query),
  );

  app.get('/api/v1/crates/:name/owners', { schema: { params: crateParams } }, async (request) => {
    const owners = await services.owners.list(request.principal, request.params.name);
    // Groups have no id of their own; cargo shows only the login.
    return {
      users: [
        ...owners.users.map((o) => ({ id: o.id, login: o.login, kind: 'user', name: null, email: null })),
        ...owners.groups.map((g) => ({ id: 0, login: `${GROUP_PREFIX}${g}`, kind: 'group', name: null, email: null })),
      ],
    };
  });
};
