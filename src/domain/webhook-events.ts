// Webhook events, what a delivery's body holds and how it is signed. The events are actions the
// services already report to the audit recorder (publish, yank, owners, and the policy's), so that
// a new action reaches webhooks by being recorded. The body never holds a token or a secret: only
// the event, the crate and version, who acted, when, and the registry's URL.
// Signature (docs/webhooks.md): `X-Cratekeeper-Signature-256: t=<unix seconds>,sha256=<hex>`, the
// HMAC-SHA256 under the endpoint's secret of `<t>.<body>`, the exact bytes sent, as Stripe signs;
// receivers refuse an old `t`, so a captured delivery cannot be replayed later.

import { createHmac, randomUUID } from 'node:crypto';
import { matchesAnyCratePattern, type CratePattern } from './crate-pattern.js';

export const WEBHOOK_EVENTS = [
  'publish',
  'yank',
  'unyank',
  'owner-add',
  'owner-remove',
  /** The supply-chain policy refused a download or a publish. */
  'policy-refused',
  /** An administrator changed the policy: a setting, a hold, an early release. */
  'policy-change',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const SIGNATURE_HEADER = 'x-cratekeeper-signature-256';
export const EVENT_HEADER = 'x-cratekeeper-event';
export const DELIVERY_HEADER = 'x-cratekeeper-delivery';

export function isWebhookEvent(action: string): action is WebhookEvent {
  return (WEBHOOK_EVENTS as readonly string[]).includes(action);
}

/** What happened, as the services reported it. */
export interface WebhookOccurrence {
  /** Stable across redeliveries: receivers deduplicate on it. */
  id: string;
  event: WebhookEvent;
  crate: string | null;
  version: string | null;
  actor: string | null;
  at: string;
  detail: string | null;
}

/** A new occurrence, with its own id, of an event at `at` (ISO time). */
export function newOccurrence(
  event: WebhookEvent,
  what: { crate: string | null; version?: string | null; actor: string | null; detail?: string | null },
  at: string,
): WebhookOccurrence {
  return { id: randomUUID(), event, crate: what.crate, version: what.version ?? null, actor: what.actor, at, detail: what.detail ?? null };
}

/** Which endpoints hear of an occurrence: the event is theirs, and a crate it names passes their filter. */
export function endpointWants(
  endpoint: { events: readonly string[]; crates: readonly CratePattern[] | null },
  occurrence: { event: string; crate: string | null },
): boolean {
  if (!endpoint.events.includes(occurrence.event)) return false;
  if (endpoint.crates === null || endpoint.crates.length === 0) return true;
  return occurrence.crate !== null && matchesAnyCratePattern(endpoint.crates, occurrence.crate);
}

// The audit detail of these events says only who (owners changed) or "new crate". Other events'
// details (the policy's reasons) may name other crates, which an endpoint's filter may not cover.
const DETAIL_EVENTS = new Set<WebhookEvent>(['publish', 'owner-add', 'owner-remove']);

/** The exact bytes of a delivery's body. */
export function webhookBody(occurrence: WebhookOccurrence, registryUrl: string): string {
  return JSON.stringify({
    id: occurrence.id,
    event: occurrence.event,
    crate: occurrence.crate,
    version: occurrence.version,
    actor: occurrence.actor,
    time: occurrence.at,
    detail: DETAIL_EVENTS.has(occurrence.event) ? occurrence.detail : null,
    registry: registryUrl,
  });
}

/** The signature header's value for `body` sent at `unixSeconds`. */
export function webhookSignature(secret: string, unixSeconds: number, body: string | Buffer): string {
  const hmac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(body).digest('hex');
  return `t=${unixSeconds},sha256=${hmac}`;
}
