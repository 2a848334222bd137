// A `cratekeeper serve` that signs people in through a test OpenID provider, set up the way an
// operator would: cratekeeper.toml names the provider in [oidc], the client secret comes from the
// environment (as documented), and the provider accepts the server's callback.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import type { TestOidcProvider } from './oidc-provider.js';
import { startRegistry, type RunningRegistry } from './registry-server.js';

export interface OidcRegistryOptions {
  /** More lines of the [oidc] table (authorized_groups, authorized_users, ...). */
  oidc?: string[];
  /** The rest of cratekeeper.toml, after the [oidc] table. */
  config?: string[];
  /** More environment for the server. */
  env?: Record<string, string>;
}

export async function startRegistryWithOidc(provider: TestOidcProvider, options: OidcRegistryOptions = {}): Promise<RunningRegistry> {
  const configFile = join(makeTempDir(), 'cratekeeper.toml');
  const oidc = ['[oidc]', `issuer_url = "${provider.issuer}"`, `client_id = "${provider.clientId}"`, ...(options.oidc ?? [])];
  writeFileSync(configFile, [...oidc, '', ...(options.config ?? []), ''].join('\n'));
  const server = await startRegistry({
    args: ['--config', configFile],
    env: { CRATEKEEPER_OIDC__CLIENT_SECRET: provider.clientSecret, ...options.env },
  });
  await provider.allowRedirect(`${server.url}/me/callback`);
  return server;
}
