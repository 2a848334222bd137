// `serve` with several processes (server.workers > 1): one Node process uses one core, so the
// primary forks workers that share the listening port. The primary runs migrations and the first-
// start bootstrap once, prints the startup lines when every worker listens, restarts a worker that
// dies, and stops them all on SIGTERM. Workers keep their caches coherent through the store's change
// feed; after each write a worker tells the primary, which asks its siblings to read the feed at
// once instead of at their next poll.

import cluster, { type Worker } from 'node:cluster';
import { createServer } from 'node:net';
import type { Config } from './config/schema.js';
import { openRegistry } from './registry.js';
import { findAdminLockout, type AdminLockout } from './services/admin-access.js';
import { startServer, type RunningServer } from './server.js';

const PORT_VARIABLE = 'CRATEKEEPER_CLUSTER_PORT';

type WorkerMessage = { type: 'listening'; url: string } | { type: 'wrote' };
type PrimaryMessage = { type: 'poll' };

export const isClusterWorker = () => cluster.isWorker;

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface StartedCluster {
  url: string;
  publicUrl: string;
  firstToken: string | undefined;
  adminLockout: AdminLockout | undefined;
  stop(): Promise<void>;
}

export async function startCluster(config: Config, env: NodeJS.ProcessEnv): Promise<StartedCluster> {
  const registry = await openRegistry(config, { env });
  const firstToken = await registry.accounts.bootstrapAdmin();
  const adminLockout =
    firstToken === undefined
      ? await findAdminLockout(registry.metadata, { oidcConfigured: config.oidc !== undefined, now: Date.now })
      : undefined;
  await registry.close();
  const port = config.server.port === 0 ? await freePort(config.server.host) : config.server.port;

  let stopping = false;
  const workers = new Set<Worker>();
  let markReady: (url: string) => void = () => {};
  let failStart: (error: Error) => void = () => {};
  const ready = new Promise<string>((resolve, reject) => {
    markReady = resolve;
    failStart = reject;
  });
  const listening = new Set<Worker>();

  const fork = () => {
    const worker = cluster.fork({ [PORT_VARIABLE]: String(port) });
    workers.add(worker);
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'listening') {
        listening.add(worker);
        if (listening.size === config.server.workers) markReady(message.url);
      } else if (message.type === 'wrote') {
        for (const sibling of workers) if (sibling !== worker) sibling.send({ type: 'poll' } satisfies PrimaryMessage);
      }
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      const wasListening = listening.delete(worker);
      if (stopping) return;
      if (!wasListening) {
        failStart(new Error(`a worker exited (code ${code}, signal ${signal}) before it listened; see the log above`));
        return;
      }
      console.error(`cratekeeper: worker ${worker.process.pid} exited (code ${code}, signal ${signal}); starting another`);
      fork();
    });
  };

  const stop = async () => {
    stopping = true;
    await Promise.all(
      [...workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            worker.process.kill('SIGTERM');
          }),
      ),
    );
  };

  for (let i = 0; i < config.server.workers; i++) fork();
  try {
    const url = await ready;
    return { url, publicUrl: config.server.public_url?.replace(/\/+$/, '') ?? url, firstToken, adminLockout, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** In a worker: serve on the primary's port, and relay writes and poll requests. */
export async function startClusterWorker(config: Config, env: NodeJS.ProcessEnv, configFile?: string): Promise<RunningServer> {
  const port = Number(env[PORT_VARIABLE]);
  const server = await startServer(
    { ...config, server: { ...config.server, port } },
    { env, bootstrap: false, configFile, onWrite: () => process.send?.({ type: 'wrote' } satisfies WorkerMessage) },
  );
  process.on('message', (message: PrimaryMessage) => {
    if (message.type === 'poll') void server.pollChanges();
  });
  // A primary that dies without stopping us (SIGKILL, a crash) must not leave us serving alone.
  process.once('disconnect', () => {
    void server.stop().finally(() => process.exit(0));
  });
  process.send?.({ type: 'listening', url: server.url } satisfies WorkerMessage);
  return server;
}
