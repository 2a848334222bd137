// Authentication hooks for groups of routes. Reads (index, downloads, search, owners list) need a
// token when `auth.required` is on; writes always do. A token that is sent is always checked, so a
// wrong token is refused even where none is required. The hook is callback-style so that a token
// decided from memory (the steady state) is answered without a promise.
//
// Failed token checks count against the client address (shared across replicas); an address over
// its limit gets 429 with Retry-After instead of 401 for its wrong tokens. The limit never refuses a
// valid token, cached or not: many people share one address (NAT, CI runners), and one of them
// sending garbage must not lock out the others. What a flood of bad tokens may cost the database is
// bounded in the authenticator (auth/token-authenticator.ts): malformed ones are refused from
// memory and count nowhere (they cost nothing, and counting them would cost a shared write).

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { forbidden, unauthenticated } from '../domain/errors.js';
import type { TokenScope } from '../domain/token-scope.js';
import { hasScope } from '../auth/token-permissions.js';
import type { RateLimiter } from '../lib/rate-limiter.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import { countFailedCheck, type AuthOutcome, type TokenAuthenticator } from '../auth/token-authenticator.js';
import { isWebSession } from '../auth/web-sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: TokenPrincipal | null;
  }
}

export interface AuthenticationOptions {
  tokenRequired: boolean;
  /** The scope every request of the group needs (reads need `read`). */
  scope?: TokenScope;
  failedAuthLimiter: RateLimiter;
  /** Told of each refusal by this hook (counted by /metrics). */
  onFailure?: (reason: 'missing' | 'rejected' | 'scope' | 'limited') => void;
}

const HOW_TO_LOG_IN = 'run `cargo login --registry <name>` with a token from this registry (see its /me page)';

const SESSION_AS_TOKEN: AuthOutcome = { status: 'rejected', reason: 'a browser session is not a cargo token', cause: 'session' };

/**
 * The principal an outcome decided from memory lets in without any refusal (null: no token where
 * none is required), or undefined when the group refuses it. The lean path (fast-lane.ts) asks
 * this to know whether it may answer; `apply` makes the refusals.
 */
export function admittedPrincipal(
  result: AuthOutcome,
  options: Pick<AuthenticationOptions, 'tokenRequired' | 'scope'>,
): TokenPrincipal | null | undefined {
  if (result.status === 'ok') {
    // A browser session's token lives in its cookie only (auth/web-sessions.ts).
    if (isWebSession(result.principal)) return undefined;
    if (options.scope !== undefined && !hasScope(result.principal, options.scope)) return undefined;
    return result.principal;
  }
  if (result.status === 'rejected' || options.tokenRequired) return undefined;
  return null;
}

function apply(result: AuthOutcome, request: FastifyRequest, options: AuthenticationOptions): Error | undefined {
  const admitted = admittedPrincipal(result, options);
  if (admitted !== undefined) {
    request.principal = admitted;
    return undefined;
  }
  const outcome = result.status === 'ok' && isWebSession(result.principal) ? SESSION_AS_TOKEN : result;
  if (outcome.status === 'ok') {
    // Admitted but for the scope.
    request.principal = outcome.principal;
    options.onFailure?.('scope');
    return forbidden(
      'token-scope-missing',
      `this token lacks the \`${options.scope}\` scope (it has: ${outcome.principal.scopes!.join(', ')})`,
    );
  }
  if (outcome.status === 'rejected') {
    const limited = countFailedCheck(options.failedAuthLimiter, request.ip, outcome);
    options.onFailure?.(limited ? 'limited' : 'rejected');
    return limited ?? unauthenticated('token-rejected', `token rejected: ${outcome.reason}; ${HOW_TO_LOG_IN}`);
  }
  options.onFailure?.('missing');
  return unauthenticated('token-required', `this registry requires a token; ${HOW_TO_LOG_IN}`);
}

export function authenticate(auth: TokenAuthenticator, options: AuthenticationOptions) {
  return function authenticationHook(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const header = request.headers.authorization;
    const decided = auth.authenticateFromCache(header);
    if (decided !== undefined) {
      done(apply(decided, request, options));
      return;
    }
    // Not decidable from memory: one lookup, taking turns with other addresses; never refused
    // beforehand, since the token may be valid whatever else came from this address.
    auth.authenticate(header, request.ip).then(
      (outcome) => done(apply(outcome, request, options)),
      (error: Error) => done(error),
    );
  };
}

/** The principal of a route group whose hook required a token. */
export function principalOf(request: FastifyRequest): TokenPrincipal {
  if (!request.principal) throw unauthenticated('token-required', `a token is required; ${HOW_TO_LOG_IN}`);
  return request.principal;
}
