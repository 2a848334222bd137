// Crate downloads: the exact stored bytes, status 200, never a Content-Encoding (cargo would let
// curl inflate them, and the checksum would fail). On the hot path: no schema, the service checks
// the name and version. When some upstream also serves the main index, `mirrorHandover`
// (mirror.ts) runs first and answers for the crates that are not local.

import type { preHandlerAsyncHookHandler } from 'fastify';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { DownloadCounter } from '../../services/download-counter.js';
import type { IndexFiles } from '../../services/index-files.js';
import { assertDownloadAllowed, type PolicyGate } from '../policy-gate.js';
import { auditSource, type Caller } from '../audit-source.js';
import { versionNotFound, type DownloadService, type FoundBlob } from '../../services/downloads.js';
import { sendStream } from '../stream-release.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface DownloadOptions {
  downloads: DownloadService;
  policy: AccessPolicy;
  audit: AuditRecorder;
  counter: DownloadCounter;
  /** Answers GETs of mirrored crates before the local route looks (mirror.ts); absent without such upstreams. */
  mirrorHandover?: preHandlerAsyncHookHandler;
  /** The supply-chain policy (holds, and the other rules for local crates), with the index files it reviews. */
  gate: PolicyGate;
  indexFiles: IndexFiles;
}

/** The headers of a `.crate` file (a local one or a mirrored one). */
export function crateFileHeaders(size: number, cksum: string): Record<string, string> {
  return {
    'content-type': 'application/gzip',
    'content-length': String(size),
    etag: `"${cksum}"`,
    'cache-control': 'private, max-age=31536000, immutable',
  };
}

/**
 * The checks of a local download, before any file is opened: the access rule (a crate the caller
 * may not read is answered exactly like one that does not exist, after the same lookups), the
 * version's blob, the supply-chain policy. Throws the 404 or the refusal.
 */
async function admitDownload(
  { downloads, policy, audit, gate, indexFiles }: DownloadOptions,
  caller: Caller,
  name: string,
  version: string,
): Promise<FoundBlob> {
  if (!policy.mayRead(caller.principal, name)) {
    audit.record('access-refused', auditSource(caller), { crate: name, version, detail: 'download refused by an access rule' });
    await downloads.lookUpAsMissing(name, version);
    throw versionNotFound(name, version);
  }
  const found = await downloads.locate(name, version);
  // By the name as published, so that another spelling of it (`Foo_Bar`) is refused alike.
  await assertDownloadAllowed(gate, caller, { kind: 'local' }, found.crate, version, await indexFiles.get(found.crate));
  return found;
}

/** Only a download that is answered with the file counts (a refusal, a 404 or a missing file threw before). */
function recordDownload({ audit, counter }: DownloadOptions, caller: Caller, found: FoundBlob): void {
  audit.record('download', auditSource(caller), { crate: found.crate, version: found.version });
  counter.count(found.crate, found.version);
}

/**
 * A local version's bytes for this caller, opened by `open` once the checks passed, with the
 * download audited and counted once they are open; throws (404, policy refusal, a blob missing from
 * storage) when it may not have them. The route below and the lean path (fast-lane.ts) both answer
 * with it: as a stream (`openDownload`), or as an open file for HTTP/2's `respondWithFD`
 * (`openDownloadFile`, only when `downloads.opensFiles`; the caller closes it).
 */
async function openAdmitted<T extends { size: number }>(
  options: DownloadOptions,
  caller: Caller,
  name: string,
  version: string,
  open: (found: FoundBlob) => Promise<T>,
): Promise<T & { headers: Record<string, string> }> {
  const found = await admitDownload(options, caller, name, version);
  const opened = await open(found);
  recordDownload(options, caller, found);
  return { ...opened, headers: crateFileHeaders(opened.size, found.cksum) };
}

export const openDownload = (options: DownloadOptions, caller: Caller, name: string, version: string) =>
  openAdmitted(options, caller, name, version, (found) => options.downloads.open(found));

export const openDownloadFile = (options: DownloadOptions, caller: Caller, name: string, version: string) =>
  openAdmitted(options, caller, name, version, (found) => options.downloads.openFile(found));

export const downloadRoutes: RoutePlugin<DownloadOptions> = async (app, options) => {
  // A description only (route-docs.ts): no validator, nothing added per request.
  const schema = {
    summary: 'Download a `.crate` file',
    description: 'The exact stored bytes. A crate the token may not read is answered `404`, as a missing one.',
    tags: ['index'],
    rawSuccess: { status: 200, mediaType: 'application/gzip', description: 'the `.crate` file' },
  };
  const { mirrorHandover } = options;
  app.get<{ Params: { name: string; version: string } }>(
    '/api/v1/crates/:name/:version/download',
    mirrorHandover === undefined ? { schema } : { schema, preHandler: mirrorHandover },
    async (request, reply) => {
      const { stream, headers } = await openDownload(options, request, request.params.name, request.params.version);
      return sendStream(reply.headers(headers), stream);
    },
  );
};
