// `GET /api/v1/me/token`: what the token sending the request may do (its scopes, crates and expiry),
// so that a client such as `cratekeeper doctor` can warn before a token expires or when it lacks a
// scope. Any valid token may ask, however narrow: it learns only about itself, never its secret.

import { principalOf } from '../authentication.js';
import { currentTokenAnswer } from '../schemas/api-responses.js';
import type { AccountService } from '../../services/accounts.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface CurrentTokenOptions {
  accounts: AccountService;
}

export const currentTokenRoutes: RoutePlugin<CurrentTokenOptions> = async (app, { accounts }) => {
  const schema = {
    summary: 'Describe the token sending this request',
    description: 'Any valid token may ask; the answer names only its own user, scopes, crates and expiry.',
    tags: ['tokens'],
    response: { 200: currentTokenAnswer },
  };
  app.get('/api/v1/me/token', { schema }, async (request) => {
    const principal = principalOf(request);
    const record = (await accounts.listTokens(principal.login)).find((t) => t.id === principal.tokenId);
    return {
      user: principal.login,
      id: principal.tokenId,
      name: record?.name ?? null,
      expires_at: principal.expiresAt,
      scopes: principal.scopes,
      crates: principal.cratePatterns,
    };
  });
};
