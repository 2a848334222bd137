// A mirrored crate's versions with the supply-chain policy's findings, read-only: quarantine (with
// the release time), upstream advisories and licences, which otherwise only `policy check` shows.
// In the reads group beside the mirror's index, so the same callers get the same answers: no
// token when one is required is a 401, an upstream or crate that is not there a 404.

import { notFound } from '../../domain/errors.js';
import { flattenFindings, type CrateFindings } from '../../policy/crate-findings.js';
import { mirroredCrateAnswer } from '../schemas/api-responses.js';
import { requestSchema, type RoutePlugin } from '../zod-type-provider.js';
import { z } from 'zod';

/** The newest versions listed; a crate with more says how many it leaves out. */
export const MAX_MIRRORED_VERSIONS = 500;

const params = requestSchema('invalid-crate-name', z.object({ upstream: z.string(), name: z.string() }));

/** The view of one mirrored crate: newest versions first, each with its findings. */
export async function mirroredCrateView(findings: CrateFindings, upstream: string, name: string) {
  const lower = name.toLowerCase();
  const review = await findings.mirrored(upstream, lower);
  if (!review) throw notFound('crate-not-found', `mirror \`${upstream}\` has no crate named \`${name}\``);
  const newest = [...review.versions].reverse();
  const shown = newest.slice(0, MAX_MIRRORED_VERSIONS);
  return {
    upstream,
    crate: shown[0]?.name ?? lower,
    versions: shown.map((v) => {
      const list = review.findings.get(v.vers) ?? [];
      return {
        num: v.vers,
        yanked: v.yanked,
        pubtime: v.pubtime ?? null,
        status: review.denied.has(v.vers) ? ('denied' as const) : list.length > 0 ? ('warned' as const) : ('ok' as const),
        findings: flattenFindings(new Map([[v.vers, list]])),
      };
    }),
    versions_omitted: newest.length - shown.length,
  };
}

export const mirrorCrateViewRoutes: RoutePlugin<{ findings: CrateFindings }> = async (app, { findings }) => {
  const schema = {
    summary: "A mirrored crate's versions with the supply-chain policy's findings",
    description:
      'Quarantine (with `released_at`), holds, upstream advisories and licence verdicts per version, newest first ' +
      `(at most ${MAX_MIRRORED_VERSIONS}). The same callers as the mirror's index may read it.`,
    tags: ['mirrors'],
    params,
    response: { 200: mirroredCrateAnswer },
  };
  app.get('/api/v1/mirrors/:upstream/crates/:name', { schema }, async (request) =>
    mirroredCrateView(findings, request.params.upstream, request.params.name),
  );
};
