// Crate downloads: the exact stored bytes, status 200, never a Content-Encoding (cargo would let
// curl inflate them, and the checksum would fail). On the hot path: no schema, the service checks
// the name and version. When some upstream also serves the main index, `mirrorHandover`
// (mirror.ts) runs first and answers for the crates that are not local.

import type { Readable } from 'node:stream';
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { DownloadCounter } from '../../services/download-counter.js';
import type { IndexFiles } from '../../services/index-files.js';
import { assertDownloadAllowed, type PolicyGate } from '../policy-gate.js';
import { auditSource, type Caller } from '../audit-source.js';
import { versionNotFound, type DownloadService } from '../../services/downloads.js';
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
 * A local version's bytes for this caller, with the download audited and counted; throws (404,
 * policy refusal) when it may not have them. The route below and the lean path (fast-lane.ts)
 * both answer with it.
 */
export async function openDownload(
  { downloads, policy, audit, counter, gate, indexFiles }: DownloadOptions,
  caller: Caller,
  name: string,
  version: string,
): Promise<{ stream: Readable; headers: Record<string, string> }> {
  // A crate the principal may not read is answered exactly like one that does not exist, after
  // the same lookups.
  if (!policy.mayRead(caller.principal, name)) {
    audit.record('access-refused', auditSource(caller), { crate: name, version, detail: 'download refused by an access rule' });
    await downloads.lookUpAsMissing(name, version);
    throw versionNotFound(name, version);
  }
  const { stream, size, cksum, crate } = await downloads.open(name, version);
  try {
    // By the name as published, so that another spelling of it (`Foo_Bar`) is refused alike.
    await assertDownloadAllowed(gate, caller, { kind: 'local' }, crate, version, await indexFiles.get(crate));
  } catch (error) {
    stream.destroy();
    throw error;
  }
  audit.record('download', auditSource(caller), { crate, version });
  // Only a download that is answered with the file counts (a refusal or a 404 threw above).
  counter.count(crate, version);
  return { stream, headers: crateFileHeaders(size, cksum) };
}

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
