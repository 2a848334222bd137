// The `[[webhooks]]` part of the configuration: endpoints that hear of publishes, yanks, owner
// changes and policy decisions, and `[webhook_delivery]`: how deliveries are sent and retried.
// An endpoint's secret comes from an environment variable (`secret_env`), never from the file;
// a variable that is not set stops the start (services/webhook-endpoints.ts says which).
// From the environment, `CRATEKEEPER_WEBHOOKS__0__NAME=...` defines the list (replacing the file's).

import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../domain/webhook-events.js';
import { cratePatterns, httpUrl, integer, list, size, text } from './fields.js';

export const WEBHOOK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const WEBHOOK_NAME_RULE = 'lower-case letters, digits, - and _ (at most 64)';

const webhookEvents = () =>
  list().pipe(
    z
      .array(z.enum(WEBHOOK_EVENTS, { error: `expected events among ${WEBHOOK_EVENTS.join(', ')}` }))
      .min(1, { error: 'an endpoint needs at least one event' }),
  );

export const webhookSchema = z.strictObject({
  name: text().regex(WEBHOOK_NAME_PATTERN, { error: `expected ${WEBHOOK_NAME_RULE}` }),
  url: httpUrl(),
  /** Name of the environment variable that holds the signing secret. */
  secret_env: text().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' }),
  events: webhookEvents(),
  /** Only events about these crates (names, or prefixes ending in `*`); left out: every crate. */
  crates: cratePatterns().optional(),
});

function numericTableToList(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!keys.every((k) => /^\d+$/.test(k))) return value;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => (value as Record<string, unknown>)[k]);
}

export const webhooksSchema = z
  .preprocess(numericTableToList, z.array(webhookSchema, { error: 'expected a list of [[webhooks]] tables' }))
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, webhook] of list.entries()) {
      if (seen.has(webhook.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `another webhook is also named "${webhook.name}"` });
      seen.add(webhook.name);
    }
  })
  .default([]);

export const webhookDeliverySchema = z
  .strictObject({
    // One attempt: connecting, sending and the answer's status.
    timeout_ms: integer(100, 120_000).default(10_000),
    // Attempts per delivery, the first included; then it is marked failed (admins may redeliver).
    max_attempts: integer(1, 100).default(8),
    // The wait before the second attempt; it doubles each time, up to retry_max_ms.
    retry_initial_ms: integer(10, 86_400_000).default(30_000),
    retry_max_ms: integer(10, 86_400_000).default(3_600_000),
    // How often each process looks for due deliveries (others' too: a replica picks up what another left).
    poll_interval_ms: integer(10, 600_000).default(5_000),
    // Attempts in flight at once per process.
    concurrency: integer(1, 64).default(4),
    // Bytes of an endpoint's answer kept for the delivery log; the rest is not read.
    response_limit: size().default(1024),
  })
  .prefault({});

export type WebhookConfig = z.output<typeof webhookSchema>;
export type WebhookDeliveryConfig = z.output<typeof webhookDeliverySchema>;
