// The credential provider's actions for registries with terminal sign-in (sessions): `get` answers
// the session's access token with cache "expires" (refreshing it first when due), `login` without a
// token runs the device flow, `logout` signs the device out. Each returns undefined when the registry
// has no session (or, for login, offers no sign-in), so that the caller keeps today's .netrc
// behaviour for it.

import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { discoverAuthorizationServer } from './oauth-client.js';
import { sessionContext, sessionToken } from './session-credentials.js';
import { openSessionStore } from './session-store-choice.js';
import { sessionKey } from './session-store.js';
import { signIn, signOut } from './sign-in.js';

export type ProviderAnswer = { Ok: Record<string, unknown> } | { Err: { kind: string; message?: string } };

/** How cargo's user gets a new session for this registry. */
export function cargoLoginHint(indexUrl: string, registryName: string | undefined): string {
  return registryName ? `cargo login --registry ${registryName}` : `cargo login --index ${indexUrl}`;
}

export async function getFromSession(
  indexUrl: string,
  registryName: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ProviderAnswer | undefined> {
  const key = sessionKey(indexUrl);
  const token = await sessionToken(key, sessionContext(openSessionStore(env), env), cargoLoginHint(indexUrl, registryName));
  if (token === undefined) return undefined;
  return { Ok: { kind: 'get', token: token.token, cache: 'expires', expiration: token.cacheUntil, operation_independent: true } };
}

/** `cargo login` without a token: the device flow, when the registry offers it. */
export async function loginWithDeviceFlow(
  indexUrl: string,
  registryName: string | undefined,
  env: NodeJS.ProcessEnv,
  errors: Writable,
): Promise<ProviderAnswer | undefined> {
  const key = sessionKey(indexUrl);
  if ((await discoverAuthorizationServer(key)) === undefined) return undefined;
  await signIn(
    key,
    sessionContext(openSessionStore(env), env),
    {
      tell: (line) => errors.write(`${line}\n`),
      sleep: (seconds) => sleep(seconds * 1000),
      now: () => Math.floor(Date.now() / 1000),
    },
    { retryHint: cargoLoginHint(indexUrl, registryName) },
  );
  return { Ok: { kind: 'login' } };
}

export async function logoutSession(indexUrl: string, env: NodeJS.ProcessEnv, errors: Writable): Promise<ProviderAnswer | undefined> {
  const result = await signOut(sessionKey(indexUrl), sessionContext(openSessionStore(env), env));
  if (!result.found) return undefined;
  if (result.warning) errors.write(`warning: ${result.warning}\n`);
  return { Ok: { kind: 'logout' } };
}
