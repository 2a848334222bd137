// The web API that changes crates: publish, yank, unyank, owners. Every route here needs a token.
// Bodies are read as raw bytes whatever their Content-Type (cargo sends none for publish); the
// route's body limit makes fastify refuse an oversized upload with 413 from its Content-Length,
// before reading it, or as soon as a streamed body passes the limit.

import type { FastifyInstance } from 'fastify';
import { invalid } from '../../domain/errors.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { OwnersService } from '../../services/owners.js';
import type { PublishService } from '../../services/publish.js';
import type { YankService } from '../../services/yank.js';
import { auditSource } from '../audit-source.js';
import { principalOf } from '../authentication.js';

interface CrateParams {
  name: string;
  version: string;
}

function parseOwnersBody(body: unknown): string[] {
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('invalid-owners-body', 'the request body must be JSON of the form {"users":["login", ...]}');
  }
  const users = (parsed as { users?: unknown } | null)?.users;
  if (!Array.isArray(users) || users.length === 0 || !users.every((u) => typeof u === 'string')) {
    throw invalid('invalid-owners-body', 'the request body must be JSON of the form {"users":["login", ...]} with at least one login');
  }
  return users as string[];
}

export function cratesApiRoutes(
  app: FastifyInstance,
  services: { publish: PublishService; yank: YankService; owners: OwnersService; audit: AuditRecorder; maxPublishSize: number },
): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.put('/api/v1/crates/new', { bodyLimit: services.maxPublishSize }, async (request) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const result = await services.publish.publish(principalOf(request), body);
    request.log.info({ crate: result.name, version: result.version, user: principalOf(request).login }, 'published');
    services.audit.record('publish', auditSource(request), { crate: result.name, version: result.version, detail: result.newCrate ? 'new crate' : undefined });
    return { warnings: result.warnings };
  });

  app.delete<{ Params: CrateParams }>('/api/v1/crates/:name/:version/yank', async (request) => {
    await services.yank.setYanked(principalOf(request), request.params.name, request.params.version, true);
    services.audit.record('yank', auditSource(request), { crate: request.params.name, version: request.params.version });
    return { ok: true };
  });

  app.put<{ Params: CrateParams }>('/api/v1/crates/:name/:version/unyank', async (request) => {
    await services.yank.setYanked(principalOf(request), request.params.name, request.params.version, false);
    services.audit.record('unyank', auditSource(request), { crate: request.params.name, version: request.params.version });
    return { ok: true };
  });

  app.put<{ Params: { name: string } }>('/api/v1/crates/:name/owners', async (request) => {
    const logins = parseOwnersBody(request.body);
    const msg = await services.owners.add(principalOf(request), request.params.name, logins);
    services.audit.record('owner-add', auditSource(request), { crate: request.params.name, detail: logins.join(', ') });
    return { ok: true, msg };
  });

  app.delete<{ Params: { name: string } }>('/api/v1/crates/:name/owners', async (request) => {
    const logins = parseOwnersBody(request.body);
    const msg = await services.owners.remove(principalOf(request), request.params.name, logins);
    services.audit.record('owner-remove', auditSource(request), { crate: request.params.name, detail: logins.join(', ') });
    return { ok: true, msg };
  });
}
