// The supply-chain policy for administrators: `GET /api/v1/admin/policy` (settings per source,
// holds and early releases in force, versions held back lately), and changes to settings, holds
// and releases. Every change is audited (`policy-change`) and reaches every replica through the
// change feed (src/policy/policy-admin.ts).

import { assertAdminToken } from '../../auth/token-permissions.js';
import { duration } from '../../config/fields.js';
import { invalid } from '../../domain/errors.js';
import type { Policy } from '../../policy/open-policy.js';
import { DEFAULT_RELEASE_MS, type PolicyActor } from '../../policy/policy-admin.js';
import { parseHeldBackPerPage } from '../../policy/held-back-list.js';
import type { PolicyException } from '../../ports/policy-store.js';
import { auditSource } from '../audit-source.js';
import { principalOf } from '../authentication.js';
import { okAnswer, policyExceptionAnswer, policyOverviewAnswer, policySettingAnswer } from '../schemas/api-responses.js';
import { policyExceptionBody, policyExceptionRemovalBody, policySettingBody, policySettingParams } from '../schemas/policy-requests.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';

const releaseFor = duration(1000, 365 * 86_400_000);

export const showException = (e: PolicyException) => ({
  id: e.id,
  kind: e.kind,
  source: e.source === null ? null : e.source.replace(/^upstream:/, ''),
  crate: e.crate,
  version: e.version,
  reason: e.reason,
  created_by: e.createdBy,
  created_at: e.createdAt,
  expires_at: e.expiresAt,
});

export const adminPolicyRoutes: RoutePlugin<{ policy: Policy }> = async (app, { policy }) => {
  const actor = (request: FastifyRequest): PolicyActor => {
    const principal = principalOf(request);
    assertAdminToken(principal, 'read or change the supply-chain policy');
    return { audit: auditSource(request), login: principal.login };
  };
  // Before the body is checked: a non-administrator learns nothing about what a valid change is.
  app.addHook('preValidation', async (request) => {
    if (request.url.startsWith('/api/v1/admin/policy')) actor(request);
  });
  const tags = ['admin'];

  const overview = {
    summary: 'The supply-chain policy: settings, holds, early releases, versions held back',
    description:
      'For administrators. `held_back` lists the versions held back now by holds, quarantine and advisories, ' +
      'built from the database (the same on every replica), a page of candidate crates at a time.',
    tags,
    documentedQuery: z.object({
      after: z.string().optional().meta({ description: 'the `held_back_next` of the previous page' }),
      per_page: z.string().optional().meta({ description: 'candidate crates examined per page (default 50, at most 200)' }),
    }),
    response: { 200: policyOverviewAnswer },
  };
  app.get<{ Querystring: { after?: string; per_page?: string } }>('/api/v1/admin/policy', { schema: overview }, async (request) => {
    actor(request);
    const held = await policy.heldBack.page(request.query.after, parseHeldBackPerPage(request.query.per_page));
    return {
      settings: policy.admin.settings(),
      exceptions: policy.admin.exceptions().map(showException),
      held_back: held.rows.map((h) => ({ ...h, findings: [...h.findings] })),
      held_back_next: held.next ?? null,
    };
  });

  const set = {
    summary: "Set one policy setting of a source (`local` or an upstream's name)",
    description:
      'Keys: min_release_age, advisories, advisories_min_cvss, advisories_informational, licences_allow, licences_deny, licence_file, licence_missing.',
    tags,
    params: policySettingParams,
    body: policySettingBody,
    response: { 200: policySettingAnswer },
  };
  app.put('/api/v1/admin/policy/settings/:source/:key', { schema: set }, async (request) => {
    const { source, key } = request.params;
    const value = await policy.admin.set(actor(request), source, key, request.body.value);
    return { source, key, value };
  });

  const unset = {
    summary: 'Remove a policy setting of a source (the configuration file applies again)',
    tags,
    params: policySettingParams,
    response: { 200: policySettingAnswer },
  };
  app.delete('/api/v1/admin/policy/settings/:source/:key', { schema: unset }, async (request) => {
    const { source, key } = request.params;
    await policy.admin.unset(actor(request), source, key);
    return { source, key, value: null };
  });

  const add = {
    summary: 'Hold a crate or version back, or release a version from quarantine early',
    description: 'A hold lasts until removed; an early release names one version and expires (`expires_in`, default 7d).',
    tags,
    body: policyExceptionBody,
    response: { 201: policyExceptionAnswer },
  };
  app.post('/api/v1/admin/policy/exceptions', { schema: add }, async (request, reply) => {
    const who = actor(request);
    const body = request.body;
    let exception;
    if (body.kind === 'hold') {
      exception = await policy.admin.hold(who, body.crate, body.reason, body.source);
    } else {
      let forMs = DEFAULT_RELEASE_MS;
      if (body.expires_in !== undefined) {
        const parsed = releaseFor.safeParse(body.expires_in);
        if (!parsed.success) throw invalid('invalid-policy-exception', '`expires_in` must be a duration such as "7d" or "12h", up to 365d');
        forMs = parsed.data;
      }
      exception = await policy.admin.release(who, body.crate, body.reason, forMs, body.source);
    }
    return reply.code(201).send({ exception: showException(exception) });
  });

  const remove = {
    summary: 'Remove a hold or an early release, named as it was made',
    tags,
    body: policyExceptionRemovalBody,
    response: { 200: okAnswer },
  };
  app.post('/api/v1/admin/policy/exceptions/remove', { schema: remove }, async (request) => {
    const body = request.body;
    await policy.admin.remove(actor(request), body.kind, body.crate, body.source);
    return { ok: true as const };
  });
};
