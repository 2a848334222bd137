// Probes for load balancers and orchestrators, without a token (they reveal nothing):
// `/healthz` says the process is alive; `/readyz` says it can reach its database and its storage.
// Each check has its own deadline, so a dependency that stopped answering turns /readyz into a 503
// within seconds instead of hanging the probe. The body names what is unreachable (`database`,
// `storage`) and nothing more: addresses and error texts go to the log only. Concurrent probes share
// one check per dependency, so a frozen dependency does not collect a pile of waiting checks.

import type { FastifyBaseLogger } from 'fastify';
import type { BlobStore } from '../../ports/blob-store.js';
import type { ChangeLog } from '../../ports/change-log.js';
import type { RoutePlugin } from '../zod-type-provider.js';

const PROBE_KEY = 'health/readyz-probe';

type Outcome = 'ok' | 'unreachable';

/** Runs a check at most once at a time; callers that come meanwhile wait for the same one. */
function sharedCheck(what: () => Promise<unknown>): () => Promise<void> {
  let running: Promise<void> | undefined;
  return () =>
    (running ??= (async () => {
      try {
        await what();
      } finally {
        running = undefined;
      }
    })());
}

async function outcomeOf(name: string, check: () => Promise<void>, timeoutMs: number, log: FastifyBaseLogger): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms (server.readiness_timeout_ms)`)), timeoutMs);
  });
  try {
    await Promise.race([check(), late]);
    return 'ok';
  } catch (error) {
    log.warn({ err: error, dependency: name }, `readiness check: the ${name} is unreachable`);
    return 'unreachable';
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthOptions {
  metadata: { changes: ChangeLog };
  blobs: BlobStore;
  config: { server: { readiness_timeout_ms: number } };
}

export const healthRoutes: RoutePlugin<HealthOptions> = async (app, deps) => {
  const timeoutMs = deps.config.server.readiness_timeout_ms;
  const database = sharedCheck(() => deps.metadata.changes.latestChangeSeq());
  // Opening a key that does not exist is a read round trip to the storage, and changes nothing.
  const storage = sharedCheck(async () => (await deps.blobs.open(PROBE_KEY))?.stream.destroy());

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    const [db, blobs] = await Promise.all([
      outcomeOf('database', database, timeoutMs, request.log),
      outcomeOf('storage', storage, timeoutMs, request.log),
    ]);
    const ready = db === 'ok' && blobs === 'ok';
    return reply
      .code(ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: ready ? 'ok' : 'unavailable', database: db, storage: blobs });
  });
};
