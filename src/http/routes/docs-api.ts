// Rustdoc hosting on the web API (docs/rustdoc.md): CI uploads a `.tar.gz` of `target/doc` for a
// version (writes group: a token that may publish the crate), owners read the build status and
// logs, and the crate's metadata names where its docs are. The pages themselves are docs-pages.ts.

import type { FastifyRequest } from 'fastify';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { DocsService } from '../../services/docs.js';
import { notFound } from '../../domain/errors.js';
import { auditSource } from '../audit-source.js';
import { principalOf } from '../authentication.js';
import { crateAnswer, docBuildsAnswer, docsUploadAnswer } from '../schemas/api-responses.js';
import { crateParams, crateVersionParams } from '../schemas/crate-params.js';
import { uploadAdmission } from '../upload-admission.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import { flattenFindings, type CrateFindings } from '../../policy/crate-findings.js';

export const docsPathOf = (crate: string, version = 'latest') => `/docs/${encodeURIComponent(crate)}/${encodeURIComponent(version)}/`;

export interface DocsUploadOptions {
  docs: DocsService;
  audit: AuditRecorder;
  publicUrl: () => string;
  /** `[docs] max_archive_size`. */
  maxArchiveSize: number;
  /** `[docs] max_uploads_in_flight`, `upload_timeout_seconds`, and how long an upload may wait for a slot. */
  maxUploadsInFlight: number;
  uploadTimeoutSeconds: number;
  queueSeconds: number;
}

/** The upload, in the writes group. */
export const docsUploadRoutes: RoutePlugin<DocsUploadOptions> = async (app, options) => {
  // An archive is buffered whole (up to max_archive_size) before it is checked: few at once, one per user.
  const upload = uploadAdmission(
    {
      maxInFlight: options.maxUploadsInFlight,
      maxInFlightPerUser: 1,
      queueSeconds: options.queueSeconds,
      deadlineSeconds: options.uploadTimeoutSeconds,
      deadlineSetting: 'docs.upload_timeout_seconds',
      what: 'docs uploads',
    },
    (request: FastifyRequest) => {
      const { name, version } = request.params as { name: string; version: string };
      return options.docs.admitUpload(principalOf(request), name, version);
    },
  );
  const schema = {
    summary: 'Upload the rustdoc output of a version (`cratekeeper-client docs upload`)',
    description:
      'The body is a `.tar.gz` of `target/doc`. Needs a token that may publish the crate (`publish-update` scope, an owner). ' +
      'The archive is checked like a crate file (relative paths without `..`, no links or devices, sizes and entry counts); ' +
      'a refused upload changes nothing. `408` when the archive does not arrive within `docs.upload_timeout_seconds`, ' +
      '`503` with `Retry-After` when every upload slot stays busy.',
    tags: ['docs'],
    params: crateVersionParams,
    rawBody: { mediaType: 'application/gzip', description: 'a `.tar.gz` of `target/doc`' },
    response: { 200: docsUploadAnswer },
  };
  app.put(
    '/api/v1/crates/:name/:version/docs',
    {
      schema,
      bodyLimit: options.maxArchiveSize,
      config: { bodyLimitSetting: 'docs.max_archive_size' },
      ...upload,
    },
    async (request) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const { crate, version } = await options.docs.upload(principalOf(request), request.params.name, request.params.version, body);
      options.audit.record('docs-upload', auditSource(request), { crate, version });
      return { ok: true as const, url: `${options.publicUrl()}${docsPathOf(crate, version)}` };
    },
  );
};

export interface DocsReadApiOptions {
  docs: DocsService;
  publicUrl: () => string;
  /** The supply-chain policy's findings and licence verdicts, for the crate's metadata. */
  findings: CrateFindings;
}

/** Build status and the crate's metadata, in the reads group. */
export const docsReadApiRoutes: RoutePlugin<DocsReadApiOptions> = async (app, options) => {
  const builds = {
    summary: "A crate's rustdoc builds and uploads, with their logs",
    description: "For the crate's owners and crate admins; anyone else gets `404`, as for a crate that does not exist.",
    tags: ['docs'],
    params: crateParams,
    response: { 200: docBuildsAnswer },
  };
  app.get('/api/v1/crates/:name/docs/builds', { schema: builds }, async (request) => {
    const found = await options.docs.builds(request.principal, request.params.name);
    if (!found) throw notFound('crate-not-found', `crate \`${request.params.name}\` does not exist`);
    return {
      builds: found.builds.map((b) => ({
        version: b.version,
        status: b.status,
        log: b.log,
        has_docs: b.docsKey !== null,
        attempts: b.attempts,
        created_at: b.createdAt,
        started_at: b.startedAt,
        finished_at: b.finishedAt,
      })),
    };
  });

  const crate = {
    summary: "A crate's metadata, with where its documentation is and the supply-chain policy's findings",
    description:
      '`documentation` is the docs hosted here (`/docs/<crate>/latest/`) when they exist. `policy_findings` lists, per version, ' +
      'what the policy holds back (`deny`) or marks (`warn`): quarantine, holds, advisories, licences.',
    tags: ['crates'],
    params: crateParams,
    response: { 200: crateAnswer },
  };
  app.get('/api/v1/crates/:name', { schema: crate }, async (request) => {
    // Throws not-found for a crate the caller may not read, before any finding is looked at.
    const { license, ...metadata } = await options.docs.crateMetadata(
      request.principal,
      request.params.name,
      (name) => `${options.publicUrl()}${docsPathOf(name)}`,
    );
    const review = await options.findings.local(metadata.name.toLowerCase());
    return {
      crate: metadata,
      policy_findings: flattenFindings(review.findings),
      licence: { version: metadata.max_version, expression: license, ...options.findings.localLicence(license) },
    };
  });
};
