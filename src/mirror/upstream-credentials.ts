// An upstream's credentials, through the client toolkit's CredentialResolver (the same code that
// decides what cargo's credential provider and the auth proxy send): a .netrc entry or an
// environment variable, turned into a header by an auth pattern (basic, bearer, template). The
// resolver knows only the upstream's own host and port; which origins get them at all (the
// index_url's, and those in `credential_origins`) is UpstreamHttp's decision (secret-origins.ts).

import {
  CredentialResolver,
  formatHostPort,
  parseAuthPattern,
  parseHostKey,
  parseNetrc,
  readNetrcFile,
  urlHostPort,
  type AuthConfig,
  type HostConfig,
  type NetrcDocument,
} from '@cratekeeper/client/network';
import type { UpstreamConfig } from '../config/upstreams-schema.js';
import { ConfigError } from '../config/load.js';

/** Builds the resolver for one upstream; undefined when it needs no credentials. Throws ConfigError. */
export function upstreamCredentials(upstream: UpstreamConfig, index: number, env: NodeJS.ProcessEnv): CredentialResolver | undefined {
  const auth = upstream.auth;
  if (auth === undefined) return undefined;
  const { host, port } = urlHostPort(new URL(upstream.index_url));
  const key = formatHostPort(host, port);
  const at = `upstreams.${index}.auth`;
  const hostConfig: HostConfig = {
    key,
    match: parseHostKey(key),
    netrcMachine: auth.netrc_machine,
    useNetrcDefault: false,
    tokenCommand: auth.token_env !== undefined ? [`env:${auth.token_env}`] : undefined,
    rewriteAuthRequired: false,
    base: { operation: undefined, pathPrefixes: [], auth: parseAuthPattern(auth.pattern), header: auth.header, extraHeaders: [] },
    operations: [],
  };
  const config: AuthConfig = { file: undefined, hosts: [hostConfig], allowInsecureNetrc: false };

  let netrc: NetrcDocument | undefined;
  if (auth.token_env !== undefined) {
    const variable = auth.token_env;
    if (!env[variable]) throw new ConfigError([`${at}.token_env: the environment variable ${variable} is not set`]);
    // A login for patterns that use one (basic), in the place the resolver looks for it.
    if (auth.login !== undefined) netrc = parseNetrc(`machine ${JSON.stringify(key)} login ${JSON.stringify(auth.login)}\n`, `${at}.login`);
    const secret = env[variable];
    return new CredentialResolver({ config, netrc, env, runTokenCommand: async () => ({ token: secret, expiresAt: undefined }) });
  }
  try {
    netrc = readNetrcFile(auth.netrc!);
  } catch (error) {
    throw new ConfigError([`${at}.netrc: ${(error as Error).message}`]);
  }
  if (netrc === undefined) throw new ConfigError([`${at}.netrc: no such file: ${auth.netrc}`]);
  return new CredentialResolver({ config, netrc, env });
}
