// Authentication hooks for groups of routes. Reads (index, downloads, search, owners list) need a
// token when `auth.required` is on; writes always do. A token that is sent is always checked, so a
// wrong token is refused even where none is required. The hook is callback-style so that a cached
// token (the steady state) is decided without a promise.

import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { unauthenticated } from '../domain/errors.js';
import type { TokenPrincipal } from '../ports/metadata-store.js';
import type { AuthOutcome, TokenAuthenticator } from '../auth/token-authenticator.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: TokenPrincipal | null;
  }
}

const HOW_TO_LOG_IN = 'run `cargo login --registry <name>` with a token from this registry (see its /me page)';

function apply(outcome: AuthOutcome, request: FastifyRequest, tokenRequired: boolean): Error | undefined {
  if (outcome.status === 'ok') {
    request.principal = outcome.principal;
    return undefined;
  }
  if (outcome.status === 'rejected') {
    return unauthenticated('token-rejected', `token rejected: ${outcome.reason}; ${HOW_TO_LOG_IN}`);
  }
  return tokenRequired ? unauthenticated('token-required', `this registry requires a token; ${HOW_TO_LOG_IN}`) : undefined;
}

export function authenticate(auth: TokenAuthenticator, tokenRequired: boolean) {
  return function authenticationHook(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
    const header = request.headers.authorization;
    const cached = auth.authenticateFromCache(header);
    if (cached !== undefined) {
      done(apply(cached, request, tokenRequired));
      return;
    }
    auth.authenticate(header).then(
      (outcome) => done(apply(outcome, request, tokenRequired)),
      (error: Error) => done(error),
    );
  };
}

/** The principal of a route group whose hook required a token. */
export function principalOf(request: FastifyRequest): TokenPrincipal {
  if (!request.principal) throw unauthenticated('token-required', `a token is required; ${HOW_TO_LOG_IN}`);
  return request.principal;
}
