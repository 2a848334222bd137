// The web API that changes crates: publish, yank, unyank, owners. Every route here needs a token.
// Bodies are read as raw bytes whatever their Content-Type (cargo sends none for publish; the
// writes group installs raw-body.ts); the owners body is checked by its schema. The publish
// route's body limit makes fastify refuse an oversized upload with 413 from its Content-Length,
// before reading it, or as soon as a streamed body passes the limit. Before a publish body is
// read, the token must be able to publish and the upload must get one of a few slots (so memory
// stays bounded however many arrive), and it must then arrive within the upload timeout.

import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { DocsService } from '../../services/docs.js';
import { LicenceRefusal } from '../../domain/licence-policy.js';
import type { OwnersService } from '../../services/owners.js';
import type { PublishService } from '../../services/publish.js';
import type { YankService } from '../../services/yank.js';
import { auditSource } from '../audit-source.js';
import { principalOf } from '../authentication.js';
import { crateParams, crateVersionParams } from '../schemas/crate-params.js';
import { okAnswer, ownersChangedAnswer, publishAnswer } from '../schemas/api-responses.js';
import { ownersBody } from '../schemas/owners-body.js';
import { uploadAdmission } from '../upload-admission.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface PublishLimits {
  maxSize: number;
  maxInFlight: number;
  maxInFlightPerUser: number;
  queueSeconds: number;
  uploadTimeoutSeconds: number;
}

export interface CratesApiOptions {
  publish: PublishService;
  yank: YankService;
  owners: OwnersService;
  audit: AuditRecorder;
  publishLimits: PublishLimits;
  /** Wakes the docs builder after each publish (services/docs.ts). */
  docs?: Pick<DocsService, 'published'>;
}

export const cratesApiRoutes: RoutePlugin<CratesApiOptions> = async (app, services) => {
  const limits = services.publishLimits;
  const upload = uploadAdmission(
    {
      maxInFlight: limits.maxInFlight,
      maxInFlightPerUser: limits.maxInFlightPerUser,
      queueSeconds: limits.queueSeconds,
      deadlineSeconds: limits.uploadTimeoutSeconds,
      deadlineSetting: 'publish.upload_timeout_seconds',
      what: 'publishes',
    },
    (request) => services.publish.admit(principalOf(request)),
  );

  app.put(
    '/api/v1/crates/new',
    {
      schema: {
        summary: 'Publish a crate version (`cargo publish`)',
        description:
          'Needs the `publish-new` or `publish-update` scope; `413` past `publish.max_size`, `408` when the upload is too slow, ' +
          '`503` with `Retry-After` when every publish slot stays busy.',
        tags: ['publish'],
        rawBody: {
          mediaType: 'application/octet-stream',
          description: "cargo's publish body: a 32-bit little-endian length, the JSON metadata, another length, then the `.crate` file",
        },
        response: { 200: publishAnswer },
      },
      bodyLimit: limits.maxSize,
      config: { bodyLimitSetting: 'publish.max_size' },
      ...upload,
    },
    async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const result = await services.publish.publish(principalOf(request), body).catch((error: unknown) => {
        if (error instanceof LicenceRefusal) {
          services.audit.record('policy-refused', auditSource(request), {
            crate: error.crate,
            version: error.version,
            detail: error.message,
          });
        }
        throw error;
      });
      request.log.info({ crate: result.name, version: result.version, user: principalOf(request).login }, 'published');
      services.audit.record('publish', auditSource(request), {
        crate: result.name,
        version: result.version,
        detail: result.newCrate ? 'new crate' : undefined,
      });
      services.docs?.published();
      return { warnings: result.warnings };
    },
  );

  const yankDocs = { tags: ['publish'], params: crateVersionParams, response: { 200: okAnswer } };
  const yank = { ...yankDocs, summary: 'Yank a version (`cargo yank`)', description: 'Needs the `yank` scope and an owner.' };
  app.delete('/api/v1/crates/:name/:version/yank', { schema: yank }, async (request) => {
    const crate = await services.yank.setYanked(principalOf(request), request.params.name, request.params.version, true);
    services.audit.record('yank', auditSource(request), { crate, version: request.params.version });
    return { ok: true as const };
  });

  const unyank = { ...yankDocs, summary: 'Undo a yank (`cargo yank --undo`)', description: 'Needs the `yank` scope and an owner.' };
  app.put('/api/v1/crates/:name/:version/unyank', { schema: unyank }, async (request) => {
    const crate = await services.yank.setYanked(principalOf(request), request.params.name, request.params.version, false);
    services.audit.record('unyank', auditSource(request), { crate, version: request.params.version });
    return { ok: true as const };
  });

  const ownersDocs = { tags: ['owners'], params: crateParams, body: ownersBody, response: { 200: ownersChangedAnswer } };
  const addOwners = {
    ...ownersDocs,
    summary: 'Add owners (`cargo owner --add`)',
    description: 'Users by login, groups as `group:<name>`. Needs the `change-owners` scope and an owner.',
  };
  app.put('/api/v1/crates/:name/owners', { schema: addOwners }, async (request) => {
    const logins = request.body.users;
    const { crate, msg } = await services.owners.add(principalOf(request), request.params.name, logins);
    services.audit.record('owner-add', auditSource(request), { crate, detail: logins.join(', ') });
    return { ok: true as const, msg };
  });

  const removeOwners = {
    ...ownersDocs,
    summary: 'Remove owners (`cargo owner --remove`)',
    description: 'Needs the `change-owners` scope and an owner; `404` for a login that is not an owner.',
  };
  app.delete('/api/v1/crates/:name/owners', { schema: removeOwners }, async (request) => {
    const logins = request.body.users;
    const { crate, msg } = await services.owners.remove(principalOf(request), request.params.name, logins);
    services.audit.record('owner-remove', auditSource(request), { crate, detail: logins.join(', ') });
    return { ok: true as const, msg };
  });
};
