// `POST /api/v1/trusted_publishing/tokens` with `{"id_token": "<JWT from the CI platform>"}`:
// returns `{"token", "expires_at", "user", "crates"}`, or a refusal in cargo's error shape. No
// cratekeeper token is needed (that is the point); failures count against the address's limit
// of failed authentications, and an address over it gets 429 for its failures. A valid ID token
// is never refused for what others sent: CI runners share addresses.

import type { TrustedPublishing } from '../../auth/trusted-publishing.js';
import type { RateLimiter } from '../../lib/rate-limiter.js';
import { trustedPublishingAnswer } from '../schemas/api-responses.js';
import { idTokenBody } from '../schemas/trusted-publishing-body.js';
import { addressKey } from '../../lib/address-key.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface TrustedPublishingOptions {
  trustedPublishing: TrustedPublishing;
  failedAuthLimiter: RateLimiter;
}

export const trustedPublishingRoutes: RoutePlugin<TrustedPublishingOptions> = async (app, deps) => {
  // A body without an ID token is refused by its schema, before it counts as a failed exchange.
  const exchange = {
    summary: "Exchange a CI platform's ID token for a short-lived publish token",
    description:
      'No cratekeeper token: the ID token (a JWT) is the credential, checked against the `[[trusted_publishing.rules]]`. ' +
      'Failed exchanges count against the address (`429` past the limit).',
    tags: ['trusted publishing'],
    authentication: 'none' as const,
    body: idTokenBody,
    response: { 201: trustedPublishingAnswer },
  };
  app.post('/api/v1/trusted_publishing/tokens', { schema: exchange }, async (request, reply) => {
    const idToken = request.body.id_token;
    try {
      const issued = await deps.trustedPublishing.exchange(idToken);
      request.log.info({ user: issued.user, rule: issued.rule }, 'trusted publishing token issued');
      return reply.code(201).send({ token: issued.token, expires_at: issued.expiresAt, user: issued.user, crates: issued.crates });
    } catch (error) {
      const from = addressKey(request.ip);
      const limited = deps.failedAuthLimiter.refusal(from);
      deps.failedAuthLimiter.record(from);
      throw limited ?? error;
    }
  });
};
