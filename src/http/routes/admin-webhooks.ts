// `/api/v1/admin/webhooks`: the webhook endpoints, the delivery log and redelivery, for
// administrators with an `admin` token. The admin pages (web-admin-webhooks.ts) do the same.

import type { FastifyRequest } from 'fastify';
import { assertAdminToken } from '../../auth/token-permissions.js';
import type { WebhookDeliveryRecord } from '../../ports/webhooks.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { WebhookEndpoint, WebhookEndpointsService } from '../../services/webhook-endpoints.js';
import type { WebhookService } from '../../services/webhooks.js';
import { auditSource } from '../audit-source.js';
import { principalOf } from '../authentication.js';
import { okAnswer } from '../schemas/api-responses.js';
import {
  deliveriesAnswer,
  deliveriesQuery,
  deliveryAnswer,
  deliveryIdParams,
  webhookAnswer,
  webhookBody,
  webhookIdParams,
  webhooksAnswer,
} from '../schemas/webhooks.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface AdminWebhookDeps {
  endpoints: WebhookEndpointsService;
  webhooks: WebhookService;
  audit: AuditRecorder;
}

export const showEndpoint = (e: WebhookEndpoint) => ({
  id: e.id ?? null,
  name: e.name,
  url: e.url,
  events: e.events,
  crates: e.crates?.map((p) => p.text) ?? null,
  enabled: e.enabled,
  source: e.source,
});

export const showDelivery = (d: WebhookDeliveryRecord) => ({
  id: d.id,
  delivery_id: d.deliveryId,
  endpoint: d.endpoint,
  event: d.event,
  crate: d.crate,
  status: d.status,
  attempts: d.attempts,
  last_status: d.lastStatus,
  last_error: d.lastError,
  last_attempt_at: d.lastAttemptAt,
  next_attempt_at: d.nextAttemptAt,
  created_at: d.createdAt,
  redelivery_of: d.redeliveryOf,
});

export const adminWebhookRoutes: RoutePlugin<AdminWebhookDeps> = async (app, deps) => {
  const tags = ['admin'];
  const description = 'For administrators, with a token of the `admin` scope. See docs/webhooks.md.';
  const admin = (request: FastifyRequest, what: string) => assertAdminToken(principalOf(request), what);

  const list = { summary: 'List the webhook endpoints', description, tags, response: { 200: webhooksAnswer } };
  app.get('/api/v1/admin/webhooks', { schema: list }, async (request) => {
    admin(request, 'read the webhooks');
    return { webhooks: (await deps.endpoints.list()).map(showEndpoint) };
  });

  const create = { summary: 'Add a webhook endpoint', description, tags, body: webhookBody, response: { 201: webhookAnswer } };
  app.post('/api/v1/admin/webhooks', { schema: create }, async (request, reply) => {
    admin(request, 'change the webhooks');
    const { crates, enabled, ...form } = request.body;
    const endpoint = await deps.endpoints.create({ ...form, crates: crates ?? [], enabled: enabled ?? true });
    deps.audit.record('webhook-change', auditSource(request), { detail: `added ${endpoint.name} (${endpoint.url})` });
    return reply.code(201).send(showEndpoint(endpoint));
  });

  const remove = { summary: 'Delete a webhook endpoint', description, tags, params: webhookIdParams, response: { 200: okAnswer } };
  app.delete('/api/v1/admin/webhooks/:id', { schema: remove }, async (request) => {
    admin(request, 'change the webhooks');
    await deps.endpoints.remove(Number(request.params.id));
    deps.audit.record('webhook-change', auditSource(request), { detail: `deleted webhook ${request.params.id}` });
    return { ok: true as const };
  });

  const deliveries = {
    summary: 'Read the webhook delivery log, newest first',
    description,
    tags,
    querystring: deliveriesQuery,
    response: { 200: deliveriesAnswer },
  };
  app.get('/api/v1/admin/webhooks/deliveries', { schema: deliveries }, async (request) => {
    admin(request, 'read the webhook deliveries');
    const { endpoint, status, limit, offset } = request.query;
    const result = await deps.webhooks.list({
      endpoint,
      status,
      limit: Math.min(Number(limit ?? 100), 1000),
      offset: Number(offset ?? 0),
    });
    return { total: result.total, deliveries: result.deliveries.map(showDelivery) };
  });

  const redeliver = {
    summary: 'Send a webhook delivery again',
    description: `${description} Queues the same body to the same endpoint as a new delivery.`,
    tags,
    params: deliveryIdParams,
    response: { 201: deliveryAnswer },
  };
  app.post('/api/v1/admin/webhooks/deliveries/:id/redeliver', { schema: redeliver }, async (request, reply) => {
    admin(request, 'redeliver webhooks');
    const delivery = await deps.webhooks.redeliver(Number(request.params.id));
    deps.audit.record('webhook-change', auditSource(request), { detail: `redelivery of ${request.params.id}` });
    return reply.code(201).send(showDelivery(delivery));
  });
};
