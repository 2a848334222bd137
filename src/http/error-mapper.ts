// The one place where errors become HTTP responses, in the shape cargo shows to its user:
// {"errors":[{"detail":"..."}]}. Registry errors map by kind; fastify's own client errors keep
// their status; anything else is a 500 with a generic detail, and its cause goes to the log.
// Requests that match no route are answered by unmatched-routes.ts.

import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { RegistryError, type ErrorKind } from '../domain/errors.js';
import type { AuditRecorder } from '../services/audit-recorder.js';
import { auditSource } from './audit-source.js';

export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  'rate-limited': 429,
  unavailable: 503,
};

export function sendErrors(reply: FastifyReply, status: number, detail: string): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send({ errors: [{ detail }] });
}

export function installErrorMapper(
  app: FastifyInstance,
  options: { loginUrl: () => string; maxPublishSize: number; audit: AuditRecorder },
): void {
  app.setErrorHandler((error: FastifyError | RegistryError, request, reply) => {
    if (error instanceof RegistryError) {
      if (error.kind === 'unauthenticated') {
        reply.header('www-authenticate', `Cargo login_url="${options.loginUrl()}"`);
      }
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      // A dependency that failed: the detail only names it; what the driver said goes to the log.
      if (error.kind === 'unavailable' && error.cause !== undefined) {
        request.log.warn({ err: error, reqId: request.id, url: request.url }, error.message);
      }
      if (error.kind === 'forbidden') {
        const crate = (request.params as { name?: string } | undefined)?.name;
        options.audit.record('access-refused', auditSource(request), { crate, detail: error.message });
      }
      return sendErrors(reply, STATUS_OF_KIND[error.kind], error.message);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const length = request.headers['content-length'];
      return sendErrors(
        reply,
        413,
        `the upload is too large${length ? ` (${length} bytes)` : ''}: this registry accepts at most ${options.maxPublishSize} bytes (publish.max_size)`,
      );
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return sendErrors(reply, status, error.message);
    request.log.error({ err: error, reqId: request.id, url: request.url }, 'request failed');
    return sendErrors(reply, 500, `internal server error; the server log has the cause (request id ${request.id})`);
  });
}
