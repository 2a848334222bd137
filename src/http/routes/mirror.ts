// Mirrors: each upstream is a sparse registry of its own at /mirrors/<name>/index/ (for cargo's
// `[source.crates-io] replace-with`), with the upstream's index lines verbatim and its .crate bytes
// unchanged. Registered in the reads group, so the same token rule holds as for the local index.
// When some upstream also serves the main index, `mirrorHandover` is the main download route's
// pre-handler (app.ts passes it to downloads.ts): it answers for crates that are not local.

import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { crateNameFromIndexPath } from '../../domain/crate-name.js';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { MirrorService } from '../../mirror/mirror-service.js';
import type { MirroredCrate } from '../../mirror/upstream-mirror.js';
import type { IndexFiles } from '../../services/index-files.js';
import { sendErrors } from '../error-mapper.js';
import { assertDownloadAllowed, type PolicyGate } from '../policy-gate.js';
import { sendIndexFile } from '../index-file-reply.js';
import { sendStream } from '../stream-release.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import { crateFileHeaders } from './downloads.js';

function sendCrate(reply: FastifyReply, crate: MirroredCrate): FastifyReply {
  reply.headers(crateFileHeaders(crate.size, crate.cksum));
  return crate.bytes !== undefined ? reply.send(crate.bytes) : sendStream(reply, crate.stream!);
}

export interface MirrorOptions {
  mirror: MirrorService;
  indexFiles: IndexFiles;
  publicUrl: () => string;
  authRequired: boolean;
  /** The supply-chain policy: leaves denied versions out of index files, refuses their downloads. */
  gate: PolicyGate;
}

export const mirrorRoutes: RoutePlugin<MirrorOptions> = async (app, options) => {
  const { mirror } = options;
  const upstreamOf = (reply: FastifyReply, name: string) => {
    const upstream = mirror.get(name);
    if (!upstream) sendErrors(reply, 404, `no mirror named \`${name}\``);
    return upstream;
  };

  // Descriptions only (route-docs.ts): no validator, nothing added per request.
  const tags = ['mirrors'];
  const config = {
    summary: "A mirror's config.json (for `[source.crates-io] replace-with`)",
    tags,
    rawSuccess: { status: 200, mediaType: 'application/json', description: '`{"dl": "...", "auth-required": true}`' },
  };
  const indexFile = {
    summary: "A mirrored crate's index file, the upstream's lines verbatim",
    description: "`path` is cargo's index path of the name, as for `/index/{path}`.",
    tags,
    rawSuccess: { status: 200, mediaType: 'text/plain', description: 'one JSON object per line, one line per version' },
  };
  const download = {
    summary: "Download a mirrored crate's `.crate` file, the upstream's bytes unchanged",
    tags,
    rawSuccess: { status: 200, mediaType: 'application/gzip', description: 'the `.crate` file' },
  };
  app.get<{ Params: { upstream: string } }>('/mirrors/:upstream/index/config.json', { schema: config }, async (request, reply) => {
    if (!upstreamOf(reply, request.params.upstream)) return reply;
    const base = `${options.publicUrl()}/mirrors/${request.params.upstream}`;
    return reply
      .header('cache-control', 'private, no-cache')
      .type('application/json')
      .send(JSON.stringify({ dl: `${base}/crates`, 'auth-required': options.authRequired }));
  });

  app.get<{ Params: { upstream: string; '*': string } }>('/mirrors/:upstream/index/*', { schema: indexFile }, async (request, reply) => {
    const upstream = upstreamOf(reply, request.params.upstream);
    if (!upstream) return reply;
    const path = request.params['*'];
    const name = crateNameFromIndexPath(path);
    const file = name === undefined ? undefined : await upstream.indexFile(name);
    if (!file) return sendErrors(reply, 404, `no crate at index path \`${path}\` of mirror \`${upstream.name}\``);
    const filtered = await options.gate.engine.filter({ kind: 'upstream', upstream: upstream.name }, name!, file);
    return sendIndexFile(request, reply, filtered, options.indexFiles);
  });

  app.get<{ Params: { upstream: string; name: string; version: string } }>(
    '/mirrors/:upstream/crates/:name/:version/download',
    { schema: download },
    async (request, reply) => {
      const upstream = upstreamOf(reply, request.params.upstream);
      if (!upstream) return reply;
      const { name, version } = request.params;
      const lower = name.toLowerCase();
      const file = await upstream.indexFile(lower);
      await assertDownloadAllowed(options.gate, request, { kind: 'upstream', upstream: upstream.name }, lower, version, file);
      return sendCrate(reply, await upstream.crate(name, version));
    },
  );
};

/**
 * Main-index downloads of mirrored crates: the main config.json has one `dl` for every crate, so
 * the local download route answers them, and this pre-handler of its GET hands over the crates
 * that are not local. Undefined when no upstream serves the main index. A HEAD (which fastify
 * derives from the GET) is answered by the local route alone, as it always was.
 */
export function mirrorHandover(
  mirror: MirrorService,
  gate: PolicyGate,
  access: Pick<AccessPolicy, 'mayRead'>,
): preHandlerAsyncHookHandler | undefined {
  if (!mirror.hasMainIndexUpstreams) return undefined;
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method !== 'GET') return;
    const { name, version } = request.params as { name: string; version: string };
    const lower = name.toLowerCase();
    const found = await mirror.mainIndexFile(lower);
    if (!found) {
      // A local crate hidden from the caller gets the upstream lookup of a crate that is not
      // local before the local route's 404, as a missing crate does.
      if (!access.mayRead(request.principal, lower) && (await mirror.isLocal(lower))) await mirror.lookUpAsIfNotLocal(lower);
      return;
    }
    await assertDownloadAllowed(gate, request, { kind: 'upstream', upstream: found.upstream.name }, lower, version, found.file);
    return sendCrate(reply, await found.upstream.crate(name, version));
  };
}
