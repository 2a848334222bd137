// The web API's reads: search and the owners list.

import { GROUP_PREFIX, type OwnersService } from '../../services/owners.js';
import type { SearchService } from '../../services/search.js';
import { z } from 'zod';
import { ownersListAnswer, searchAnswer } from '../schemas/api-responses.js';
import { crateParams } from '../schemas/crate-params.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface CratesReadApiOptions {
  search: SearchService;
  owners: OwnersService;
}

export const cratesReadApiRoutes: RoutePlugin<CratesReadApiOptions> = async (app, services) => {
  // The search service checks its own parameters (invalid-search-parameter), as the pages use it too.
  const searchQuery = z.object({
    q: z.string().optional().meta({ description: 'words to look for in names, descriptions and keywords' }),
    per_page: z.string().optional().meta({ description: 'results per page (a number)' }),
    page: z.string().optional().meta({ description: 'the page, from 1' }),
  });
  const search = {
    summary: 'Search crates (`cargo search`)',
    description: 'Only the crates the token may read.',
    tags: ['crates'],
    documentedQuery: searchQuery,
    response: { 200: searchAnswer },
  };
  app.get<{ Querystring: { q?: string; per_page?: string; page?: string } }>('/api/v1/crates', { schema: search }, async (request) =>
    services.search.search(request.principal, request.query),
  );

  const listOwners = {
    summary: "List a crate's owners (`cargo owner --list`)",
    tags: ['owners'],
    params: crateParams,
    response: { 200: ownersListAnswer },
  };
  app.get('/api/v1/crates/:name/owners', { schema: listOwners }, async (request) => {
    const owners = await services.owners.list(request.principal, request.params.name);
    // Groups have no id of their own; cargo shows only the login.
    return {
      users: [
        ...owners.users.map((o) => ({ id: o.id, login: o.login, kind: 'user' as const, name: null, email: null })),
        ...owners.groups.map((g) => ({ id: 0, login: `${GROUP_PREFIX}${g}`, kind: 'group' as const, name: null, email: null })),
      ],
    };
  });
};
