// An in-process registry for HTTP tests: the real app and services on a temporary data folder,
// driven through fastify's `inject` (no socket).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse, RouteOptions } from 'fastify';
import { loadConfig } from '../../src/config/load.js';
import { buildApp } from '../../src/http/app.js';
import { openRegistry, type Registry } from '../../src/registry.js';
import { publishBodyFor } from './crate-fixture.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

export const PUBLIC_URL = 'http://registry.test';

export interface TestRegistry {
  app: FastifyInstance;
  registry: Registry;
  adminToken: string;
  dataDir: string;
  /** Creates a user and returns a fresh token for it. */
  userToken(login: string, isAdmin?: boolean): Promise<string>;
  /** Publishes a version of a crate as the administrator, and asserts that it was accepted. */
  publishAsAdmin(name: string, version: string): Promise<void>;
  request(options: InjectOptions & { token?: string }): Promise<LightMyRequestResponse>;
  /** Everything a client could observe of a crate: its index file and each version's bytes. */
  snapshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** `settings` by dotted path, as flags; `configToml` for what flags cannot say (arrays of tables). */
export async function startTestRegistry(
  settings: Record<string, string> = {},
  configToml?: string,
  hooks: {
    onRoute?: (route: RouteOptions) => void;
    /** The services' clock (expiry), for tests that move time. */ now?: () => number;
  } = {},
): Promise<TestRegistry> {
  const dataDir = makeTempDir('cratekeeper-http-');
  let file: string | undefined;
  if (configToml !== undefined) {
    file = join(dataDir, 'cratekeeper.toml');
    writeFileSync(file, configToml);
  }
  const config = loadConfig({ file, flags: { 'storage.data_dir': dataDir, 'server.public_url': PUBLIC_URL, ...settings } });
  const registry = await openRegistry(config, { now: hooks.now });
  // Follow the change feed, but only when a test or a write asks (no background polls).
  await registry.changes.start(3_600_000);
  const app = buildApp(registry, { publicUrl: () => PUBLIC_URL, logger: false });
  // Route groups are plugins, registered when the app gets ready: a hook added now sees them all.
  if (hooks.onRoute) app.addHook('onRoute', hooks.onRoute);
  await app.ready();
  const adminToken = (await registry.accounts.bootstrapAdmin())!;

  const request = (options: InjectOptions & { token?: string }) => {
    const { token, headers, ...rest } = options;
    return app.inject({ ...rest, headers: { ...(token ? { authorization: token } : {}), ...headers } });
  };

  return {
    app,
    registry,
    adminToken,
    dataDir,
    async userToken(login, isAdmin = false) {
      await registry.accounts.addUser(login, isAdmin);
      return (await registry.accounts.createToken(login, 'test')).token;
    },
    request,
    async publishAsAdmin(name, version) {
      const res = await request({
        method: 'PUT',
        url: '/api/v1/crates/new',
        token: adminToken,
        payload: await publishBodyFor(name, version),
      });
      assert.equal(res.statusCode, 200, res.body);
    },
    async snapshot(name) {
      const versions = (await registry.metadata.crates.listVersions(name.toLowerCase())) ?? [];
      const blobs = [];
      for (const v of versions) {
        const blob = await registry.metadata.crates.findVersionBlob(name.toLowerCase(), v.entry.vers);
        blobs.push(blob?.cksum);
      }
      return JSON.stringify({ versions, blobs, owners: await registry.metadata.owners.listOwners(name.toLowerCase()) });
    },
    async close() {
      await app.close();
      await registry.close();
    },
  };
}

/** A `fetch` that sends its request into the app in process (for client code that takes a fetch). */
export function fetchInto(app: FastifyInstance): typeof fetch {
  return async (input, init) => {
    const url = new URL(String(input));
    const res = await app.inject({
      method: (init?.method ?? 'GET') as InjectOptions['method'],
      url: `${url.pathname}${url.search}`,
      headers: init?.headers as Record<string, string>,
      payload: init?.body as string,
    });
    return new Response(res.body, { status: res.statusCode });
  };
}
