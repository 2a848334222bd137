// The audit log page's view: a plain GET form of filters (the URL is the query, so it can be
// bookmarked and shared), the matching events newest first, paging that keeps the filters, and a
// link to the same filters as CSV. A filter the service rejects shows its message above the form.

import { AUDIT_ACTIONS, type AuditEvent } from '../../ports/audit-log.js';
import { html, type RawHtml } from './html.js';

/** The filters as the admin typed them (empty fields left out). */
export interface AuditPageFilter {
  crate?: string;
  user?: string;
  action?: string;
  since?: string;
  until?: string;
}

export interface AuditPageInput {
  filter: AuditPageFilter;
  limit: number;
  offset: number;
  /** Absent when the filters were refused (`problem` says why). */
  result?: { total: number; events: (AuditEvent & { id: number })[] };
  problem?: string;
  /** How many rows the CSV export holds at most. */
  csvMaxRows: number;
}

export function auditLink(path: string, filter: AuditPageFilter, paging: Record<string, number> = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value) params.set(key, value);
  for (const [key, value] of Object.entries(paging)) params.set(key, String(value));
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}

const when = (iso: string) => iso.replace('T', ' ').slice(0, 19) + ' UTC';
const none = html`<span class="muted">–</span>`;
const orNone = (value: string | number | null) => (value === null ? none : html`${value}`);

function filterForm(filter: AuditPageFilter): RawHtml {
  const text = (name: 'crate' | 'user' | 'since' | 'until', label: string, hint: string) =>
    html`<label for="audit-${name}">${label}${hint ? html` <span class="hint">${hint}</span>` : ''}</label>
<input id="audit-${name}" name="${name}" value="${filter[name] ?? ''}" maxlength="200">`;
  return html`<form class="stack" method="get" action="/admin/audit" id="audit-filters" aria-label="Filter the audit log">
${text('crate', 'Crate', 'exact name')}
${text('user', 'User', 'login')}
<label for="audit-action">Action</label>
<select id="audit-action" name="action"><option value="">any action</option>${AUDIT_ACTIONS.map(
    (a) => html`<option value="${a}"${filter.action === a ? html` selected` : ''}>${a}</option>`,
  )}</select>
${text('since', 'Since', 'a duration before now such as 7d, 12h, 30m, or a date such as 2025-01-31 or 2025-01-31T12:00:00Z')}
${text('until', 'Until', 'the same forms; events before it')}
<p><button type="submit">Show events</button> <a href="/admin/audit">Clear the filters</a></p>
</form>`;
}

function eventRow(e: AuditEvent & { id: number }): RawHtml {
  return html`<tr data-event-id="${e.id}"><td><time datetime="${e.at}">${when(e.at)}</time></td><td>${e.action}</td>
<td>${e.userLogin === null ? none : html`<a href="${auditLink('/admin/audit', { user: e.userLogin })}">${e.userLogin}</a>`}</td>
<td class="token-id">${orNone(e.tokenId)}</td>
<td>${e.crate === null ? none : html`<a href="${auditLink('/admin/audit', { crate: e.crate })}">${e.crate}</a>`}</td>
<td>${orNone(e.version)}</td><td>${orNone(e.clientIp)}</td><td>${orNone(e.userAgent)}</td><td>${orNone(e.detail)}</td><td>${e.count}</td></tr>`;
}

function results(input: AuditPageInput, result: NonNullable<AuditPageInput['result']>): RawHtml {
  const { filter, limit, offset } = input;
  const { total, events } = result;
  const first = events.length === 0 ? 0 : offset + 1;
  const last = offset + events.length;
  const status =
    total === 0
      ? 'No events match.'
      : events.length === 0
        ? `No events here; ${total} match in all.`
        : `Events ${first}–${last} of ${total}, newest first.`;
  const pager = html`<nav class="pager" aria-label="Audit log pages">${
    offset > 0
      ? html`<a href="${auditLink('/admin/audit', filter, { offset: Math.max(0, offset - limit), limit })}" rel="prev">Newer events</a>`
      : ''
  }${last < total ? html`<a href="${auditLink('/admin/audit', filter, { offset: last, limit })}" rel="next">Older events</a>` : ''}</nav>`;
  const csvNote = total > input.csvMaxRows ? ` (the newest ${input.csvMaxRows} of them)` : '';
  return html`<p id="result-count" role="status">${status}</p>
<p><a id="csv-link" href="${auditLink('/admin/audit.csv', filter)}" download>Download the events matching these filters as CSV</a>${csvNote}</p>
${
  events.length === 0
    ? ''
    : html`<table id="events"><caption>Audit events; index reads are counted per token, crate and hour</caption>
<thead><tr><th scope="col">Time</th><th scope="col">Action</th><th scope="col">User</th><th scope="col">Token id</th><th scope="col">Crate</th>
<th scope="col">Version</th><th scope="col">Client address</th><th scope="col">User agent</th><th scope="col">Detail</th><th scope="col">Count</th></tr></thead>
<tbody>${events.map(eventRow)}</tbody></table>`
}
${pager}`;
}

export function auditBody(input: AuditPageInput): RawHtml {
  return html`${input.problem ? html`<p class="refusal" id="problem" role="alert">${input.problem}</p>` : ''}
<h2>Filters</h2>
${filterForm(input.filter)}
<h2>Events</h2>
${input.result ? results(input, input.result) : html`<p class="muted">Correct the filters to see events.</p>`}`;
}
