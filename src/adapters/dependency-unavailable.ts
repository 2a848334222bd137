// How the adapters report that a service the registry depends on did not answer in time or could
// not be reached: a RegistryError of kind `unavailable` (a 503, safe to retry) whose detail names
// the dependency and nothing else. The driver's own error, with the addresses and text it holds,
// stays in `cause`: the server log gets it, the caller (often anonymous) never does.

import { RegistryError } from '../domain/errors.js';

export type Dependency = 'database' | 'storage';

/** Long enough for a failover or a restart to make progress; cargo waits this long before it retries. */
const RETRY_AFTER_SECONDS = 5;

export function dependencyUnavailable(dependency: Dependency, cause: unknown, state = 'is not answering'): RegistryError {
  return new RegistryError('unavailable', `${dependency}-unavailable`, `the ${dependency} ${state}; try again shortly`, {
    cause,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
}

// Errors of the operating system's network stack: the peer refused, reset, vanished or timed out.
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
}
