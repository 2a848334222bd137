// `GET /api/v1/admin/audit`: the audit log for administrators, as JSON or CSV, with filters
// (crate, user, action, since, until as ISO dates or durations like 7d) and paging (limit, offset).

import { toCsv, type AuditFilter, type AuditQueryService } from '../../services/audit-query.js';
import { z } from 'zod';
import { principalOf } from '../authentication.js';
import { auditAnswer } from '../schemas/api-responses.js';
import type { RoutePlugin } from '../zod-type-provider.js';

// The filter's values are checked by the service (invalid-audit-query), which the admin page shares.
export const adminAuditRoutes: RoutePlugin<{ auditQuery: AuditQueryService }> = async (app, { auditQuery }) => {
  const when = 'an ISO 8601 date, or a duration back from now such as `7d`, `12h`, `30m`';
  const auditQueryDocs = z.object({
    crate: z.string().optional().meta({ description: 'only events about this crate' }),
    user: z.string().optional().meta({ description: 'only events by this login' }),
    action: z.string().optional().meta({ description: 'only this action (`download`, `publish`, `yank`, `token-create`, ...)' }),
    since: z.string().optional().meta({ description: when }),
    until: z.string().optional().meta({ description: when }),
    limit: z.string().optional().meta({ description: 'at most this many events (default 100, at most 1000)' }),
    offset: z.string().optional().meta({ description: 'skip this many events' }),
    format: z.enum(['json', 'csv']).optional().meta({ description: '`csv` answers `text/csv` with the same events' }),
  });
  const schema = {
    summary: 'Read the audit log, newest first',
    description: 'For administrators.',
    tags: ['admin'],
    documentedQuery: auditQueryDocs,
    response: { 200: auditAnswer },
  };
  app.get<{ Querystring: AuditFilter & { format?: string } }>('/api/v1/admin/audit', { schema }, async (request, reply) => {
    const { format, ...filter } = request.query;
    const result = await auditQuery.query(principalOf(request), filter);
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(result.events));
    return {
      total: result.total,
      events: result.events.map((e) => ({
        id: e.id,
        at: e.at,
        action: e.action,
        user: e.userLogin,
        token_id: e.tokenId,
        crate: e.crate,
        version: e.version,
        client_ip: e.clientIp,
        user_agent: e.userAgent,
        count: e.count,
        detail: e.detail,
      })),
    };
  });
};
