// `GET /api/v1/admin/advisories/:name`: the RustSec advisories synced for one crate, for every
// source (local crates, then each upstream), withdrawn ones included: what the advisory rule reads.

import type { Advisories } from '../../ports/advisories.js';
import { assertAdminToken } from '../../auth/token-permissions.js';
import { principalOf } from '../authentication.js';
import { crateAdvisoriesAnswer } from '../schemas/advisory-answers.js';
import { crateParams } from '../schemas/crate-params.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface AdminAdvisoryOptions {
  advisories: Advisories;
  /** The configured upstreams' names. */
  upstreams: readonly string[];
}

export const adminAdvisoryRoutes: RoutePlugin<AdminAdvisoryOptions> = async (app, { advisories, upstreams }) => {
  const schema = {
    summary: 'List the RustSec advisories of a crate, per source',
    description: 'For administrators. Advisories come from `cratekeeper advisories sync --for <source>`.',
    tags: ['admin'],
    params: crateParams,
    response: { 200: crateAdvisoriesAnswer },
  };
  app.get('/api/v1/admin/advisories/:name', { schema }, async (request) => {
    assertAdminToken(principalOf(request), 'read advisories');
    const crate = request.params.name;
    const sources = [{ label: 'local', key: 'local' }, ...upstreams.map((name) => ({ label: name, key: `upstream:${name}` }))];
    return {
      crate,
      sources: await Promise.all(
        sources.map(async ({ label, key }) => ({
          source: label,
          last_sync: (await advisories.lastSync(key))?.syncedAt ?? null,
          advisories: (await advisories.forCrate(key, crate)).map((a) => ({
            id: a.id,
            package: a.package,
            date: a.date,
            title: a.title,
            description: a.description,
            url: a.url ?? null,
            withdrawn: a.withdrawn ?? null,
            informational: a.informational ?? null,
            cvss: a.cvss ?? null,
            cvss_score: a.cvssScore ?? null,
            aliases: a.aliases,
            categories: a.categories,
            patched: a.patched,
            unaffected: a.unaffected,
          })),
        })),
      ),
    };
  });
};
