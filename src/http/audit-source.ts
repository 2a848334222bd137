// What the audit log records about the caller of a request: principal, address, user agent.

import type { TokenPrincipal } from '../ports/tokens.js';
import type { AuditSource } from '../services/audit-recorder.js';

/**
 * Who sent a request, as far as the read routes need to know: a fastify request is one, and so is
 * what the lean path (fast-lane.ts) knows of node's request.
 */
export interface Caller {
  principal: TokenPrincipal | null;
  ip: string;
  headers: { 'user-agent'?: string | undefined };
}

export function auditSource(caller: Caller): AuditSource {
  const userAgent = caller.headers['user-agent'];
  return { principal: caller.principal, ip: caller.ip, userAgent: userAgent === undefined ? null : userAgent.slice(0, 300) };
}
