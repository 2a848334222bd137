// The admin pages: users and groups, the access rules in force, and the audit log (with its CSV
// export on the session, since the JSON/CSV API wants a Bearer token). For global admins only;
// anyone else signed in gets "not found", so the pages' existence is not advertised.

import type { FastifyRequest } from 'fastify';
import type { AccessRuleConfig } from '../../auth/access-policy.js';
import { RegistryError, invalid, notFound } from '../../domain/errors.js';
import type { Catalog } from '../../ports/catalog.js';
import type { AccountService } from '../../services/accounts.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import { auditSource } from '../audit-source.js';
import { formField } from '../form-body.js';
import type { AuditEvent } from '../../ports/audit-log.js';
import type { TokenPrincipal } from '../../ports/tokens.js';
import { MAX_AUDIT_PAGE, parseAuditTime, toCsv, type AuditQueryService } from '../../services/audit-query.js';
import { auditBody, type AuditPageFilter } from '../pages/admin-audit-page.js';
import { accessBody, adminIndexBody, usersBody } from '../pages/admin-pages.js';
import { sendPage } from '../pages/html.js';
import { pageOptions, viewerOf } from '../page-viewer.js';
import type { Policy } from '../../policy/open-policy.js';
import { DEFAULT_HELD_BACK_PAGE } from '../../policy/held-back-list.js';
import { policyPageBody } from '../pages/policy-pages.js';
import { showException } from './admin-policy.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface AdminPageDeps {
  catalog: Catalog;
  auditQuery: AuditQueryService;
  accounts: AccountService;
  audit: AuditRecorder;
  accessRules: readonly AccessRuleConfig[];
  authRequired: boolean;
  /** The supply-chain policy, for /admin/policy. */
  policy: Policy;
}

const PER_PAGE = 50;
/** The CSV export reads the log a page of MAX_AUDIT_PAGE at a time, up to this many rows. */
export const CSV_MAX_ROWS = 50_000;
const FILTER_FIELDS = ['crate', 'user', 'action', 'since', 'until'] as const;

type Query = Record<string, string | string[] | undefined>;

/** A query parameter's value (the last when repeated), trimmed; undefined when absent or empty. */
function queryField(query: Query, name: string): string | undefined {
  const value = query[name];
  const text = (Array.isArray(value) ? value[value.length - 1] : value)?.trim();
  return text ? text : undefined;
}

function filterOf(query: Query): AuditPageFilter {
  const filter: AuditPageFilter = {};
  for (const name of FILTER_FIELDS) {
    const value = queryField(query, name);
    if (value !== undefined) filter[name] = value;
  }
  return filter;
}

function adminOf(request: FastifyRequest): TokenPrincipal {
  const viewer = viewerOf(request);
  if (!viewer.isAdmin) throw notFound('no-such-page', `no such page: ${request.url.split('?')[0]}`);
  return viewer;
}

export const adminPageRoutes: RoutePlugin<AdminPageDeps> = async (app, deps) => {
  app.get('/admin', async (request, reply) => {
    adminOf(request);
    return sendPage(reply, 200, 'Administration', adminIndexBody(), pageOptions(request));
  });

  app.get<{ Querystring: Query }>('/admin/users', async (request, reply) => {
    adminOf(request);
    const body = usersBody({
      users: await deps.catalog.users(),
      rules: deps.accessRules,
      csrf: request.csrf!,
      notice: queryField(request.query, 'done'),
    });
    return sendPage(reply, 200, 'Users and groups', body, pageOptions(request));
  });

  // Changes answer with a redirect to the list (post/redirect/get), which shows what was done.
  const done = (text: string) => `/admin/users?${new URLSearchParams({ done: text }).toString()}`;

  app.post('/admin/users', async (request, reply) => {
    adminOf(request);
    const isAdmin = formField(request.body, 'admin') === 'yes';
    const user = await deps.accounts.addUser(formField(request.body, 'login').trim(), isAdmin);
    deps.audit.record('user-add', auditSource(request), { detail: `${user.login}${isAdmin ? ' (admin)' : ''} (web)` });
    return reply.redirect(done(`Added user ${user.login}${isAdmin ? ' as a global administrator' : ''}.`), 303);
  });

  app.post('/admin/groups/add-member', async (request, reply) => {
    adminOf(request);
    const group = formField(request.body, 'group').trim();
    const login = formField(request.body, 'login').trim();
    const changed = await deps.accounts.addGroupMember(group, login);
    deps.audit.record('group-member-add', auditSource(request), { detail: `${login} to ${group} (web)` });
    return reply.redirect(done(changed ? `Added ${login} to ${group}.` : `${login} was already in ${group}.`), 303);
  });

  app.post('/admin/groups/remove-member', async (request, reply) => {
    adminOf(request);
    const group = formField(request.body, 'group').trim();
    const login = formField(request.body, 'login').trim();
    const changed = await deps.accounts.removeGroupMember(group, login);
    deps.audit.record('group-member-remove', auditSource(request), { detail: `${login} from ${group} (web)` });
    return reply.redirect(done(changed ? `Removed ${login} from ${group}.` : `${login} was not in ${group}.`), 303);
  });

  app.get<{ Querystring: { after?: string } }>('/admin/policy', async (request, reply) => {
    adminOf(request);
    const { admin, heldBack } = deps.policy;
    const after = typeof request.query.after === 'string' ? request.query.after : undefined;
    const held = await heldBack.page(after, DEFAULT_HELD_BACK_PAGE);
    const body = policyPageBody({
      heldBack: held.rows,
      heldBackNext: held.next,
      exceptions: admin.exceptions().map(showException),
      settings: admin.settings(),
    });
    return sendPage(reply, 200, 'Supply-chain policy', body, pageOptions(request));
  });

  app.get('/admin/access', async (request, reply) => {
    adminOf(request);
    return sendPage(
      reply,
      200,
      'Access rules',
      accessBody({ rules: deps.accessRules, authRequired: deps.authRequired }),
      pageOptions(request),
    );
  });

  app.get<{ Querystring: Query }>('/admin/audit', async (request, reply) => {
    const admin = adminOf(request);
    const filter = filterOf(request.query);
    const limit = queryField(request.query, 'limit') ?? String(PER_PAGE);
    const offset = queryField(request.query, 'offset') ?? '0';
    try {
      if (limit === '0') throw invalid('invalid-audit-query', '`limit` must be at least 1');
      const result = await deps.auditQuery.query(admin, { ...filter, limit, offset });
      const body = auditBody({ filter, limit: Number(limit), offset: Number(offset), result, csvMaxRows: CSV_MAX_ROWS });
      return sendPage(reply, 200, 'Audit log', body, pageOptions(request));
    } catch (error) {
      if (!(error instanceof RegistryError) || error.kind !== 'invalid') throw error;
      const body = auditBody({ filter, limit: PER_PAGE, offset: 0, problem: error.message, csvMaxRows: CSV_MAX_ROWS });
      return sendPage(reply, 400, 'Audit log', body, pageOptions(request));
    }
  });

  app.get<{ Querystring: Query }>('/admin/audit.csv', async (request, reply) => {
    const admin = adminOf(request);
    const filter = filterOf(request.query);
    // Fixed bounds for the whole export, so that events arriving meanwhile cannot shift the pages.
    const bounds = {
      since: filter.since === undefined ? undefined : parseAuditTime(filter.since, 'since'),
      until: filter.until === undefined ? new Date(Date.now() + 1).toISOString() : parseAuditTime(filter.until, 'until'),
    };
    const events: (AuditEvent & { id: number })[] = [];
    for (;;) {
      const limit = Math.min(MAX_AUDIT_PAGE, CSV_MAX_ROWS - events.length);
      const page = await deps.auditQuery.query(admin, { ...filter, ...bounds, limit: String(limit), offset: String(events.length) });
      events.push(...page.events);
      if (page.events.length < limit || events.length >= Math.min(page.total, CSV_MAX_ROWS)) break;
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="cratekeeper-audit.csv"')
      .header('cache-control', 'no-store')
      .header('x-content-type-options', 'nosniff')
      .send(toCsv(events));
  });
};
