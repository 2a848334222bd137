// What the audit log records about the caller of a request: principal, address, user agent.

import type { FastifyRequest } from 'fastify';
import type { AuditSource } from '../services/audit-recorder.js';

export function auditSource(request: FastifyRequest): AuditSource {
  const userAgent = request.headers['user-agent'];
  return { principal: request.principal, ip: request.ip, userAgent: userAgent === undefined ? null : userAgent.slice(0, 300) };
}
