// Typed errors of the registry. Every error has a stable `code` and a `kind` that says what sort
// of failure it is; the HTTP layer maps kinds to status codes in one place (http/error-mapper.ts).
// Messages are written for the person running cargo: they say what is wrong and, where possible,
// what to do about it. Codes form a closed union (error-codes.ts), so a misspelt one does not compile.

import type { ErrorCode } from './error-codes.js';

export { ERROR_CODES, isErrorCode, type ErrorCode } from './error-codes.js';

export type ErrorKind =
  | 'invalid' // the request itself is malformed or breaks a rule
  | 'unauthenticated' // no usable credentials
  | 'forbidden' // credentials are fine but not allowed to do this
  | 'not-found'
  | 'conflict' // clashes with what is stored
  | 'too-large'
  | 'rate-limited' // too many requests; `retryAfterSeconds` says when to come back
  | 'unavailable'; // a dependency of ours is down; safe to retry

export class RegistryError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'RegistryError';
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  readonly retryAfterSeconds: number | undefined;
}

export const invalid = (code: ErrorCode, message: string) => new RegistryError('invalid', code, message);
export const notFound = (code: ErrorCode, message: string) => new RegistryError('not-found', code, message);
export const conflict = (code: ErrorCode, message: string) => new RegistryError('conflict', code, message);
export const forbidden = (code: ErrorCode, message: string) => new RegistryError('forbidden', code, message);
export const unauthenticated = (code: ErrorCode, message: string) => new RegistryError('unauthenticated', code, message);
export const tooLarge = (code: ErrorCode, message: string) => new RegistryError('too-large', code, message);
export const rateLimited = (code: ErrorCode, message: string, retryAfterSeconds: number) =>
  new RegistryError('rate-limited', code, message, { retryAfterSeconds });
