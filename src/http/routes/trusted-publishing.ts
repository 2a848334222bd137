// `POST /api/v1/trusted_publishing/tokens` with `{"id_token": "<JWT from the CI platform>"}`:
// returns `{"token", "expires_at", "user", "crates"}`, or a refusal in cargo's error shape. No
// cratekeeper token is needed (that is the point); failures count against the address's limit
// of failed authentications, and an address over it gets 429 for its failures. A valid ID token
// is never refused for what others sent: CI runners share addresses.

import type { FastifyInstance } from 'fastify';
import type { TrustedPublishing } from '../../auth/trusted-publishing.js';
import { invalid } from '../../domain/errors.js';
import type { RateLimiter } from '../../lib/rate-limiter.js';

export function trustedPublishingRoutes(app: FastifyInstance, deps: { trustedPublishing: TrustedPublishing; failedAuthLimiter: RateLimiter }): void {
  app.post('/api/v1/trusted_publishing/tokens', async (request, reply) => {
    const idToken = (request.body as { id_token?: unknown } | undefined)?.id_token;
    if (typeof idToken !== 'string' || idToken === '') {
      throw invalid('id-token-missing', 'send a JSON body {"id_token": "<the ID token your CI platform issued>"}');
    }
    try {
      const issued = await deps.trustedPublishing.exchange(idToken);
      request.log.info({ user: issued.user, rule: issued.rule }, 'trusted publishing token issued');
      return reply.code(201).send({ token: issued.token, expires_at: issued.expiresAt, user: issued.user, crates: issued.crates });
    } catch (error) {
      const limited = deps.failedAuthLimiter.refusal(request.ip);
      deps.failedAuthLimiter.record(request.ip);
      throw limited ?? error;
    }
  });
}
