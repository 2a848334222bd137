// Views of the webhook admin page: the endpoints (the configuration file's, read-only, and those
// made here, with forms to add, edit, disable and delete them) and the delivery log with
// redelivery. Pure: plain data in, escaped HTML out. A secret is never shown, only asked for.

import { WEBHOOK_EVENTS } from '../../domain/webhook-events.js';
import type { WebhookDeliveryRecord } from '../../ports/webhooks.js';
import type { WebhookEndpoint } from '../../services/webhook-endpoints.js';
import { html, type RawHtml } from './html.js';

function postButton(action: string, csrf: string, label: string, accessibleLabel: string): RawHtml {
  return html`<form class="inline" method="post" action="${action}"><input type="hidden" name="csrf" value="${csrf}"><button class="secondary" type="submit" aria-label="${accessibleLabel}">${label}</button></form>`;
}

function endpointRows(endpoints: WebhookEndpoint[], csrf: string): RawHtml {
  if (endpoints.length === 0) return html`<p class="muted">There are no webhooks.</p>`;
  return html`<table id="webhooks"><caption>${endpoints.length} webhook${endpoints.length === 1 ? '' : 's'}</caption>
<thead><tr><th scope="col">Name</th><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Crates</th><th scope="col">State</th><th scope="col">Change</th></tr></thead>
<tbody>${endpoints.map(
    (e) => html`<tr data-webhook="${e.name}"><th scope="row">${e.name}</th><td><code>${e.url}</code></td><td>${e.events.join(', ')}</td>
<td>${e.crates ? e.crates.map((p) => p.text).join(', ') : html`<span class="muted">every crate</span>`}</td>
<td>${e.enabled ? 'enabled' : html`<strong>disabled</strong>`}</td>
<td>${
      e.id === undefined
        ? html`<span class="muted">configuration file</span>`
        : html`<a href="/admin/webhooks/${String(e.id)}/edit" aria-label="Edit ${e.name}">edit</a>
${postButton(`/admin/webhooks/${e.id}/${e.enabled ? 'disable' : 'enable'}`, csrf, e.enabled ? 'disable' : 'enable', `${e.enabled ? 'Disable' : 'Enable'} ${e.name}`)}
${postButton(`/admin/webhooks/${e.id}/delete`, csrf, 'delete', `Delete ${e.name}`)}`
    }</td></tr>`,
  )}</tbody></table>`;
}

function deliveryRows(deliveries: WebhookDeliveryRecord[], total: number, csrf: string): RawHtml {
  if (deliveries.length === 0) return html`<p class="muted">No deliveries yet.</p>`;
  return html`<table id="deliveries"><caption>the newest ${deliveries.length} of ${total} deliveries</caption>
<thead><tr><th scope="col">Id</th><th scope="col">Created</th><th scope="col">Endpoint</th><th scope="col">Event</th><th scope="col">Crate</th>
<th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Last answer</th><th scope="col">Next attempt</th><th scope="col"></th></tr></thead>
<tbody>${deliveries.map(
    (
      d,
    ) => html`<tr data-delivery="${String(d.id)}"><th scope="row">${String(d.id)}</th><td>${d.createdAt}</td><td>${d.endpoint}</td><td>${d.event}</td>
<td>${d.crate ?? ''}</td><td>${d.status}</td><td>${String(d.attempts)}</td>
<td>${d.lastStatus !== null ? String(d.lastStatus) : ''}${d.lastError ? html` <span class="muted">${d.lastError}</span>` : ''}</td>
<td>${d.nextAttemptAt ?? ''}</td><td>${postButton(`/admin/webhooks/deliveries/${d.id}/redeliver`, csrf, 'redeliver', `Redeliver ${d.id}`)}</td></tr>`,
  )}</tbody></table>`;
}

/** The add and edit form; `endpoint` fills it for an edit. */
export function webhookForm(csrf: string, endpoint?: WebhookEndpoint): RawHtml {
  const action = endpoint ? `/admin/webhooks/${endpoint.id}` : '/admin/webhooks';
  const events = endpoint?.events ?? ['publish', 'yank', 'unyank'];
  return html`<form class="stack" method="post" action="${action}" id="webhook-form" aria-labelledby="webhook-form-heading">
<h3 id="webhook-form-heading">${endpoint ? `Edit ${endpoint.name}` : 'Add a webhook'}</h3>
<input type="hidden" name="csrf" value="${csrf}">
<label for="webhook-name">Name <span class="hint">lower-case letters, digits, <code>-</code> and <code>_</code></span></label>
<input id="webhook-name" name="name" required maxlength="64" value="${endpoint?.name ?? ''}">
<label for="webhook-url">URL</label>
<input id="webhook-url" name="url" required maxlength="2000" value="${endpoint?.url ?? ''}">
<label for="webhook-secret">Secret <span class="hint">at least 16 characters, shared with the receiver, which checks the signature with it${endpoint ? '; leave empty to keep the current one' : ''}</span></label>
<input id="webhook-secret" name="secret" type="password" autocomplete="off" ${endpoint ? '' : 'required'} minlength="16">
<fieldset><legend>Events</legend>${WEBHOOK_EVENTS.map(
    (e) => html`<label><input type="checkbox" name="events" value="${e}" ${events.includes(e) ? 'checked' : ''}> ${e}</label> `,
  )}</fieldset>
<label for="webhook-crates">Crates <span class="hint">crate names or prefixes ending in <code>*</code>, separated by commas; empty: every crate</span></label>
<input id="webhook-crates" name="crates" maxlength="2000" value="${endpoint?.crates?.map((p) => p.text).join(', ') ?? ''}">
<label><input type="checkbox" name="enabled" value="yes" ${endpoint === undefined || endpoint.enabled ? 'checked' : ''}> enabled</label>
<p><button type="submit">${endpoint ? 'Save' : 'Add the webhook'}</button></p>
</form>`;
}

export function webhooksBody(input: {
  endpoints: WebhookEndpoint[];
  deliveries: WebhookDeliveryRecord[];
  total: number;
  csrf: string;
  notice?: string;
}): RawHtml {
  const { csrf } = input;
  return html`${input.notice ? html`<p class="notice" role="status" id="notice">${input.notice}</p>` : ''}
<p>Each event is sent as a signed JSON body (see docs/webhooks.md); failed deliveries are retried with growing waits.</p>
<h2 id="webhooks-heading">Endpoints</h2>
${endpointRows(input.endpoints, csrf)}
${webhookForm(csrf)}
<h2 id="deliveries-heading">Deliveries</h2>
${deliveryRows(input.deliveries, input.total, csrf)}`;
}
