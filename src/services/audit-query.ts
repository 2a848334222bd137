// Reading the audit log, for admins: filters, paging, and CSV for spreadsheets.

import { assertAdminToken } from '../auth/token-permissions.js';
import { invalid } from '../domain/errors.js';
import { AUDIT_ACTIONS, type AuditAction, type AuditEvent, type AuditLog } from '../ports/audit-log.js';
import type { TokenPrincipal } from '../ports/tokens.js';

export const MAX_AUDIT_PAGE = 1000;

export interface AuditFilter {
  crate?: string;
  user?: string;
  action?: string;
  since?: string;
  until?: string;
  limit?: string;
  offset?: string;
}

/** `7d`, `12h`, `30m` before now, or an ISO 8601 date. */
export function parseAuditTime(text: string, field: string, now = Date.now()): string {
  const relative = /^(\d+)([dhm])$/.exec(text);
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as 'd' | 'h' | 'm'];
    return new Date(now - Number(relative[1]) * unit).toISOString();
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime()))
    throw invalid('invalid-audit-query', `\`${field}\` must be a date (ISO 8601) or a duration such as 7d, 12h, 30m`);
  return date.toISOString();
}

function parseCount(text: string | undefined, field: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) > max) throw invalid('invalid-audit-query', `\`${field}\` must be a whole number up to ${max}`);
  return Number(text);
}

const CSV_COLUMNS = ['id', 'at', 'action', 'user', 'token_id', 'crate', 'version', 'client_ip', 'user_agent', 'count', 'detail'] as const;

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  // Quote everything that could split a field, and defuse spreadsheet formulas.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) || safe !== text ? `"${safe.replaceAll('"', '""')}"` : safe;
}

export function toCsv(events: (AuditEvent & { id: number })[]): string {
  const rows = events.map((e) =>
    [e.id, e.at, e.action, e.userLogin, e.tokenId, e.crate, e.version, e.clientIp, e.userAgent, e.count, e.detail].map(csvField).join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

export class AuditQueryService {
  constructor(private readonly log: AuditLog) {}

  async query(principal: TokenPrincipal | null, filter: AuditFilter) {
    // null: the command line, which has the database itself.
    if (principal !== null) assertAdminToken(principal, 'read the audit log');
    if (filter.action !== undefined && !(AUDIT_ACTIONS as readonly string[]).includes(filter.action)) {
      throw invalid('invalid-audit-query', `unknown action \`${filter.action}\`; the actions are ${AUDIT_ACTIONS.join(', ')}`);
    }
    return this.log.query({
      crate: filter.crate,
      user: filter.user,
      action: filter.action as AuditAction | undefined,
      since: filter.since === undefined ? undefined : parseAuditTime(filter.since, 'since'),
      until: filter.until === undefined ? undefined : parseAuditTime(filter.until, 'until'),
      limit: parseCount(filter.limit, 'limit', 100, MAX_AUDIT_PAGE),
      offset: parseCount(filter.offset, 'offset', 0, 1_000_000_000),
    });
  }
}
