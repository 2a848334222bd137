// `GET /api/v1/admin/audit`: the audit log for administrators, as JSON or CSV, with filters
// (crate, user, action, since, until as ISO dates or durations like 7d) and paging (limit, offset).

import { toCsv, type AuditFilter, type AuditQueryService } from '../../services/audit-query.js';
import { principalOf } from '../authentication.js';
import type { RoutePlugin } from '../zod-type-provider.js';

// The filter's values are checked by the service (invalid-audit-query), which the admin page shares.
export const adminAuditRoutes: RoutePlugin<{ auditQuery: AuditQueryService }> = async (app, { auditQuery }) => {
  app.get<{ Querystring: AuditFilter & { format?: string } }>('/api/v1/admin/audit', async (request, reply) => {
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
