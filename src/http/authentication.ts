// Authentication hooks for groups of routes. Reads (index, downloads, search, owners list) need a
// token when `auth.required` is on; writes always do. A token that is sent is always checked, so a
// wrong token is refused even where none is required.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { unauthenticated } from '../domain/errors.js';
import type { TokenPrincipal } from '../ports/metadata-store.js';
import type { TokenAuthenticator } from '../auth/token-authenticator.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: TokenPrincipal | null;
  }
}

const HOW_TO_LOG_IN = 'run `cargo login --registry <name>` with a token from this registry (see its /me page)';

export function authenticate(auth: TokenAuthenticator, tokenRequired: boolean) {
  return async function authenticationHook(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const outcome = await auth.authenticate(request.headers.authorization);
    if (outcome.status === 'ok') {
      request.principal = outcome.principal;
      return;
    }
    if (outcome.status === 'rejected') {
      throw unauthenticated('token-rejected', `token rejected: ${outcome.reason}; ${HOW_TO_LOG_IN}`);
    }
    if (tokenRequired) {
      throw unauthenticated('token-required', `this registry requires a token; ${HOW_TO_LOG_IN}`);
    }
  };
}

/** The principal of a route group whose hook required a token. */
export function principalOf(request: FastifyRequest): TokenPrincipal {
  if (!request.principal) throw unauthenticated('token-required', `a token is required; ${HOW_TO_LOG_IN}`);
  return request.principal;
}
