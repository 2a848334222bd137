// The sparse index: config.json and one file per crate. This is the hot path: a cached file is
// answered from memory, with its content-hash ETag, and `304` when the client already has it. No
// schema: the path is checked by `crateNameFromIndexPath`, at no cost beyond what it must do anyway.

import { crateNameFromIndexPath } from '../../domain/crate-name.js';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { MirrorService } from '../../mirror/mirror-service.js';
import type { IndexFile, IndexFileForm } from '../../domain/index-file.js';
import type { PolicyEngine } from '../../policy/policy-engine.js';
import type { PolicySource } from '../../policy/version-rule.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import { indexFileFormFor, type IndexFiles } from '../../services/index-files.js';
import { auditSource, type Caller } from '../audit-source.js';
import { sendErrors } from '../error-mapper.js';
import { sendIndexFile } from '../index-file-reply.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface SparseIndexOptions {
  indexFiles: IndexFiles;
  policy: AccessPolicy;
  audit: AuditRecorder;
  /** config.json's bytes, for the current public URL. */
  configJson: () => Buffer;
  mirror?: MirrorService;
  /** Leaves out the versions the supply-chain policy denies (src/policy/). */
  supplyChain: PolicyEngine;
}

const LOCAL: PolicySource = { kind: 'local' };

/** The headers of config.json (the route below and fast-lane.ts). */
export const CONFIG_JSON_HEADERS: Readonly<Record<string, string>> = {
  'cache-control': 'private, no-cache',
  'content-type': 'application/json',
};

/** The 404's detail for an index path with no file the caller may read. */
export const noIndexFile = (path: string) => `no crate at index path \`${path}\``;

/**
 * The index file of crate `name` (`crateNameFromIndexPath`) for this caller, filtered by the
 * supply-chain policy, with its read audited; undefined when there is none it may read. The route
 * below and the lean path (fast-lane.ts) both answer with it. Answered at once (no promise) when
 * the file and the policy's verdict are in memory, as they are on the hot path; a promise when a
 * store must be asked.
 */
export function readIndexFile(
  options: SparseIndexOptions,
  caller: Caller,
  name: string,
  form: IndexFileForm,
): IndexFile | undefined | Promise<IndexFile | undefined> {
  // A crate the principal may not read is answered exactly like one that does not exist.
  if (!options.policy.mayRead(caller.principal, name)) {
    options.audit.record('access-refused', auditSource(caller), { crate: name, detail: 'index read refused by an access rule' });
    const exists = options.indexFiles.existsForHidden(name, form);
    return exists instanceof Promise
      ? exists.then((local) => hiddenFile(options, caller, name, local))
      : hiddenFile(options, caller, name, exists);
  }
  const stored = options.indexFiles.get(name, form);
  return stored instanceof Promise
    ? stored.then((file) => readableFile(options, caller, name, file))
    : readableFile(options, caller, name, stored);
}

/**
 * For a caller who may not read the crate: a local crate is answered as a name that is neither local
 * nor on the main index's upstreams, after the same upstream lookup; a name with no local crate
 * gets what any caller gets for it.
 */
function hiddenFile(
  options: SparseIndexOptions,
  caller: Caller,
  name: string,
  local: boolean,
): IndexFile | undefined | Promise<IndexFile | undefined> {
  if (local) return options.mirror?.lookUpAsIfNotLocal(name).then(() => undefined);
  return readableFile(options, caller, name, undefined);
}

/** The local file filtered by the policy, or else the main upstream's (a mirror); its read audited. */
function readableFile(
  options: SparseIndexOptions,
  caller: Caller,
  name: string,
  local: IndexFile | undefined,
): IndexFile | undefined | Promise<IndexFile | undefined> {
  if (local) {
    const filtered = options.supplyChain.filter(LOCAL, name, local);
    return filtered instanceof Promise
      ? filtered.then((file) => audited(options, caller, name, file))
      : audited(options, caller, name, filtered);
  }
  // Not a local crate: an upstream that serves the main index may have it.
  return options.mirror ? mainIndexFile(options, name).then((file) => audited(options, caller, name, file)) : undefined;
}

function audited(options: SparseIndexOptions, caller: Caller, name: string, file: IndexFile | undefined) {
  if (file) options.audit.indexRead(auditSource(caller), name);
  return file;
}

async function mainIndexFile(options: SparseIndexOptions, name: string): Promise<IndexFile | undefined> {
  const main = await options.mirror!.mainIndexFile(name);
  return main && (await options.supplyChain.filter({ kind: 'upstream', upstream: main.upstream.name }, name, main.file));
}

export const sparseIndexRoutes: RoutePlugin<SparseIndexOptions> = async (app, options) => {
  // Descriptions only (route-docs.ts): no validator, nothing added per request.
  const config = {
    summary: "The sparse index's config.json",
    description: 'Where cargo downloads crates (`dl`) and calls the API (`api`), and `auth-required`.',
    tags: ['index'],
    rawSuccess: { status: 200, mediaType: 'application/json', description: '`{"dl": "...", "api": "...", "auth-required": true}`' },
  };
  const indexFile = {
    summary: "A crate's index file",
    description:
      "`path` is cargo's index path of the name: `1/a`, `2/ab`, `3/a/abc`, `se/rd/serde`. One JSON line per version. " +
      'ETag and `If-None-Match` (`304`); gzip when accepted. A crate the token may not read is answered `404`, as a missing one.',
    tags: ['index'],
    rawSuccess: { status: 200, mediaType: 'text/plain', description: 'one JSON object per line, one line per version' },
  };
  app.get('/index/config.json', { schema: config }, async (_request, reply) =>
    reply.headers(CONFIG_JSON_HEADERS).send(options.configJson()),
  );

  app.get<{ Params: { '*': string } }>('/index/*', { schema: indexFile }, async (request, reply) => {
    const path = request.params['*'];
    const name = crateNameFromIndexPath(path);
    const file =
      name === undefined ? undefined : await readIndexFile(options, request, name, indexFileFormFor(request.headers['accept-encoding']));
    if (!file) return sendErrors(reply, 404, noIndexFile(path));
    return sendIndexFile(request, reply, file, options.indexFiles);
  });
};
