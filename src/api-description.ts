// `cratekeeper openapi`: the API description as a file that docs can link, without a running
// server. It builds the real app on a throwaway registry (a temporary folder, the default
// settings, so nothing of the caller's environment changes it) and asks it for the description
// with the throwaway admin's token: the file is exactly what a server with the defaults answers.
// It wires the layers like server.ts, so it lives beside it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config/load.js';
import { buildApp } from './http/app.js';
import { OPENAPI_PATH } from './http/openapi/openapi-document.js';
import { openRegistry } from './registry.js';

/** The OpenAPI document as served, pretty-printed, for a registry whose base URL is `publicUrl`. */
export async function describeApi(publicUrl: string): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cratekeeper-openapi-'));
  try {
    const config = loadConfig({ flags: { 'storage.data_dir': dataDir, 'server.public_url': publicUrl } });
    const registry = await openRegistry(config);
    try {
      const app = buildApp(registry, { publicUrl: () => config.server.public_url ?? publicUrl, logger: false });
      try {
        await app.ready();
        const token = await registry.accounts.bootstrapAdmin();
        const answer = await app.inject({ method: 'GET', url: OPENAPI_PATH, headers: token ? { authorization: token } : {} });
        if (answer.statusCode !== 200) throw new Error(`the app answered ${answer.statusCode} for ${OPENAPI_PATH}: ${answer.body}`);
        return `${JSON.stringify(JSON.parse(answer.body), null, 2)}\n`;
      } finally {
        await app.close();
      }
    } finally {
      await registry.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
