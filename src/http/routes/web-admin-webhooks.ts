// The webhook admin page (/admin/webhooks): endpoints made on this page are added, edited,
// disabled and deleted here; the configuration file's are listed read-only. The delivery log
// shows each delivery's status, attempts and last answer, with a button to redeliver. Global
// admins only; anyone else gets "not found", as on the other admin pages.

import type { FastifyRequest } from 'fastify';
import { notFound } from '../../domain/errors.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { WebhookEndpointForm, WebhookEndpointsService } from '../../services/webhook-endpoints.js';
import type { WebhookService } from '../../services/webhooks.js';
import { auditSource } from '../audit-source.js';
import { formField, formList } from '../form-body.js';
import { webhookForm, webhooksBody } from '../pages/admin-webhooks-page.js';
import { sendPage } from '../pages/html.js';
import { pageOptions, viewerOf } from '../page-viewer.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface WebhookPageDeps {
  endpoints: WebhookEndpointsService;
  webhooks: WebhookService;
  audit: AuditRecorder;
}

const DELIVERIES_SHOWN = 50;

function assertAdmin(request: FastifyRequest): void {
  if (!viewerOf(request).isAdmin) throw notFound('no-such-page', `no such page: ${request.url.split('?')[0]}`);
}

function idOf(request: FastifyRequest<{ Params: { id: string } }>): number {
  if (!/^\d{1,15}$/.test(request.params.id)) throw notFound('no-such-page', `no such page: ${request.url.split('?')[0]}`);
  return Number(request.params.id);
}

function formOf(body: unknown): WebhookEndpointForm {
  const secret = formField(body, 'secret');
  return {
    name: formField(body, 'name'),
    url: formField(body, 'url'),
    secret: secret === '' ? undefined : secret,
    events: formList(body, 'events'),
    crates: formField(body, 'crates').split(','),
    enabled: formField(body, 'enabled') === 'yes',
  };
}

const done = (text: string) => `/admin/webhooks?${new URLSearchParams({ done: text }).toString()}`;

export const webhookPageRoutes: RoutePlugin<WebhookPageDeps> = async (app, deps) => {
  const record = (request: FastifyRequest, detail: string) =>
    deps.audit.record('webhook-change', auditSource(request), { detail: `${detail} (web)` });

  app.get<{ Querystring: { done?: string } }>('/admin/webhooks', async (request, reply) => {
    assertAdmin(request);
    const { total, deliveries } = await deps.webhooks.list({ limit: DELIVERIES_SHOWN, offset: 0 });
    const body = webhooksBody({
      endpoints: await deps.endpoints.list(),
      deliveries,
      total,
      csrf: request.csrf!,
      notice: typeof request.query.done === 'string' ? request.query.done : undefined,
    });
    return sendPage(reply, 200, 'Webhooks', body, pageOptions(request));
  });

  app.post('/admin/webhooks', async (request, reply) => {
    assertAdmin(request);
    const endpoint = await deps.endpoints.create(formOf(request.body));
    record(request, `added ${endpoint.name} (${endpoint.url})`);
    return reply.redirect(done(`Added webhook ${endpoint.name}.`), 303);
  });

  app.get<{ Params: { id: string } }>('/admin/webhooks/:id/edit', async (request, reply) => {
    assertAdmin(request);
    const id = idOf(request);
    const endpoint = (await deps.endpoints.list()).find((e) => e.id === id);
    if (!endpoint) throw notFound('webhook-not-found', `no webhook with id ${id} (it may have been deleted)`);
    return sendPage(reply, 200, `Webhook ${endpoint.name}`, webhookForm(request.csrf!, endpoint), pageOptions(request));
  });

  app.post<{ Params: { id: string } }>('/admin/webhooks/:id', async (request, reply) => {
    assertAdmin(request);
    const form = formOf(request.body);
    await deps.endpoints.update(idOf(request), form);
    record(request, `changed webhook ${request.params.id} (${form.name})`);
    return reply.redirect(done(`Saved webhook ${form.name.trim()}.`), 303);
  });

  for (const change of ['enable', 'disable'] as const) {
    app.post<{ Params: { id: string } }>(`/admin/webhooks/:id/${change}`, async (request, reply) => {
      assertAdmin(request);
      const endpoint = await deps.endpoints.setEnabled(idOf(request), change === 'enable');
      record(request, `${change}d webhook ${endpoint.name}`);
      return reply.redirect(done(`${change === 'enable' ? 'Enabled' : 'Disabled'} webhook ${endpoint.name}.`), 303);
    });
  }

  app.post<{ Params: { id: string } }>('/admin/webhooks/:id/delete', async (request, reply) => {
    assertAdmin(request);
    await deps.endpoints.remove(idOf(request));
    record(request, `deleted webhook ${request.params.id}`);
    return reply.redirect(done(`Deleted webhook ${request.params.id}.`), 303);
  });

  app.post<{ Params: { id: string } }>('/admin/webhooks/deliveries/:id/redeliver', async (request, reply) => {
    assertAdmin(request);
    const delivery = await deps.webhooks.redeliver(idOf(request));
    record(request, `redelivery of ${request.params.id}`);
    return reply.redirect(done(`Queued delivery ${delivery.id} (again of ${request.params.id}).`), 303);
  });
};
