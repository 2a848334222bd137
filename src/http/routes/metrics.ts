// GET /metrics: Prometheus text format. No token by default (scrapers run inside the network and the
// figures name no crate, user or token); with `metrics.token` set, a scrape must send it as
// `Authorization: Bearer <token>`. That token is a static string for Prometheus's
// `authorization.credentials`, separate from registry tokens, so a scraper holds no registry access
// and /metrics costs no database lookup.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { Metrics } from '../../services/metrics.js';
import { sendErrors } from '../error-mapper.js';
import type { RoutePlugin } from '../zod-type-provider.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

export interface MetricsOptions {
  metrics: Metrics;
  /** `metrics.token`: the Bearer token a scrape must send; undefined for none. */
  token: string | undefined;
}

export const metricsRoutes: RoutePlugin<MetricsOptions> = async (app, options) => {
  const expected = options.token === undefined ? undefined : digest(`Bearer ${options.token}`);
  app.get('/metrics', async (request, reply) => {
    if (expected !== undefined) {
      const header = request.headers.authorization;
      // Compared as digests: equal lengths, and the comparison time says nothing about the token.
      if (header === undefined || !timingSafeEqual(digest(header.trim()), expected)) {
        reply.header('www-authenticate', 'Bearer realm="metrics"');
        return sendErrors(reply, 401, 'this registry requires `Authorization: Bearer <metrics.token>` for /metrics');
      }
    }
    const body = await options.metrics.render();
    return reply.header('cache-control', 'no-store').type(options.metrics.contentType).send(body);
  });
};
