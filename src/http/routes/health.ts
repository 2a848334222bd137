// Probes for load balancers and orchestrators, without a token (they reveal nothing):
// `/healthz` says the process is alive; `/readyz` says it can reach its database and its storage.

import type { FastifyInstance } from 'fastify';
import type { BlobStore } from '../../ports/blob-store.js';
import type { MetadataStore } from '../../ports/metadata-store.js';

const PROBE_KEY = 'health/readyz-probe';

async function check(what: () => Promise<unknown>): Promise<string> {
  try {
    await what();
    return 'ok';
  } catch (error) {
    return `unreachable: ${(error as Error).message.split('\n')[0]}`;
  }
}

export function healthRoutes(app: FastifyInstance, deps: { store: MetadataStore; blobs: BlobStore }): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const [database, storage] = await Promise.all([
      check(() => deps.store.latestChangeSeq()),
      // Opening a key that does not exist is a read round trip to the storage, and changes nothing.
      check(async () => (await deps.blobs.open(PROBE_KEY))?.stream.destroy()),
    ]);
    const ready = database === 'ok' && storage === 'ok';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', database, storage });
  });
}
