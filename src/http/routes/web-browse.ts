// Browsing pages: home, search results and crate pages. Everything shown passes the viewer's access
// rules: search leaves out what they may not read, and such a crate's page is "not found".

import type { TokenPrincipal } from '../../ports/tokens.js';
import type { CratePages } from '../../services/crate-pages.js';
import type { SearchService } from '../../services/search.js';
import { homeBody, searchBody } from '../pages/browse-pages.js';
import { crateBody, type CratePageExtras } from '../pages/crate-page.js';
import { sendPage } from '../pages/html.js';
import { pageOptions } from '../page-viewer.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import type { CrateFindings } from '../../policy/crate-findings.js';
import { mirroredCrateBody } from '../pages/mirrored-crate-page.js';
import { mirroredCrateView } from './mirror-crate-view.js';

const PER_PAGE = 20;

export interface BrowseDeps {
  search: SearchService;
  cratePages: CratePages;
  /** The version's README as sanitized HTML (services/readme.ts). */
  readmeHtml: (lowerName: string, version: string, repositoryUrl: string | null) => Promise<string | undefined>;
  downloads: (lowerName: string) => Promise<CratePageExtras['downloads']>;
  /** The version's hosted docs and, for owners, the builds (docs/rustdoc.md). */
  docs?: (viewer: TokenPrincipal | null, name: string, version: string) => Promise<CratePageExtras['docs']>;
  /** The supply-chain policy's findings about the crate's versions, and licence verdicts. */
  findings: CrateFindings;
  registryName: string;
  indexUrl: () => string;
}

export const browseRoutes: RoutePlugin<BrowseDeps> = async (app, deps) => {
  app.get('/', async (request, reply) => {
    const { meta } = await deps.search.search(request.principal, { q: '', per_page: '1' });
    return sendPage(
      reply,
      200,
      'Crates',
      homeBody({ crateCount: meta.total, registryName: deps.registryName, indexUrl: deps.indexUrl() }),
      pageOptions(request),
    );
  });

  app.get<{ Querystring: { q?: string; page?: string } }>('/search', async (request, reply) => {
    const query = (request.query.q ?? '').trim().slice(0, 200);
    const page = /^\d{1,6}$/.test(request.query.page ?? '') && Number(request.query.page) > 0 ? Number(request.query.page) : 1;
    const result = await deps.search.search(request.principal, { q: query, per_page: String(PER_PAGE), page: String(page) });
    const title = query ? `Search: ${query}` : 'All crates';
    return sendPage(reply, 200, title, searchBody({ query, page, perPage: PER_PAGE, result }), pageOptions(request, { query }));
  });

  const showCrate = async (viewer: TokenPrincipal | null, name: string, version?: string) => {
    const view = await deps.cratePages.view(viewer, name, version);
    const lower = view.crate.name.toLowerCase();
    const [readmeHtml, downloads, docs, review] = await Promise.all([
      deps.readmeHtml(lower, view.selected.entry.vers, view.details.repository),
      deps.downloads(lower),
      deps.docs?.(viewer, view.crate.name, view.selected.entry.vers),
      deps.findings.local(lower),
    ]);
    const licenceVerdict = deps.findings.localLicence(view.details.license);
    const extras = { registryName: deps.registryName, readmeHtml, downloads, docs, policyFindings: review.findings, licenceVerdict };
    return { view, extras };
  };

  // `?source=<upstream>`: the mirrored crate's versions and findings, for whoever may read the mirror
  // (the pages need what its index needs: a signed-in user when auth.required is on).
  app.get<{ Params: { name: string }; Querystring: { source?: string } }>('/crates/:name', async (request, reply) => {
    const { source } = request.query;
    if (typeof source === 'string' && source !== '') {
      const view = await mirroredCrateView(deps.findings, source, request.params.name);
      return sendPage(reply, 200, `${view.crate} (${view.upstream})`, mirroredCrateBody(view), pageOptions(request));
    }
    const { view, extras } = await showCrate(request.principal, request.params.name);
    return sendPage(reply, 200, view.crate.name, crateBody(view, extras), pageOptions(request));
  });

  app.get<{ Params: { name: string; version: string } }>('/crates/:name/:version', async (request, reply) => {
    const { view, extras } = await showCrate(request.principal, request.params.name, request.params.version);
    return sendPage(reply, 200, view.crate.name, crateBody(view, extras), pageOptions(request));
  });
};
