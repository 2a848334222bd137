// `POST /api/v1/policy/check`: the packages of a Cargo.lock, answered with what the supply-chain
// policy says of each one this registry serves (`cratekeeper-client policy check` calls it). In
// the reads group: a `read` token will do, and crates it may not read are `unknown`.

import type { PolicyCheck } from '../../policy/policy-check.js';
import { policyCheckAnswer } from '../schemas/api-responses.js';
import { policyCheckBody } from '../schemas/policy-requests.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export const policyCheckRoutes: RoutePlugin<{ check: PolicyCheck }> = async (app, { check }) => {
  const schema = {
    summary: "Check a Cargo.lock's packages against the supply-chain policy",
    description:
      'For each package whose `source` is this registry (the main index or a mirror): `denied` (quarantined, held, affected by an ' +
      'advisory, refused by a licence rule), `warned`, `ok`, or `unknown` (no such crate or version, or one the token may not read). ' +
      "A source this registry mirrors counts as that upstream's (crates.io's ids, in a Cargo.lock written under source replacement, " +
      'as the upstream whose index is crates.io). Packages from other registries are `not-served`.',
    tags: ['policy'],
    body: policyCheckBody,
    response: { 200: policyCheckAnswer },
  };
  app.post('/api/v1/policy/check', { schema }, async (request) => {
    const packages = await check.check(request.principal, request.body.packages);
    return {
      packages: packages.map((p) => ({ ...p, findings: [...p.findings] })),
      denied: packages.filter((p) => p.status === 'denied').length,
    };
  });
};
