// Requests and answers of the webhook administration API (routes/admin-webhooks.ts).

import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../../domain/webhook-events.js';
import { requestSchema } from '../zod-type-provider.js';
import { jsonInBuffer } from './json-in-buffer.js';

const ID = 'expected a numeric id';

export const webhookIdParams = requestSchema('invalid-webhook', z.object({ id: z.string().regex(/^\d{1,15}$/, { error: ID }) }));

export const deliveryIdParams = requestSchema(
  'webhook-delivery-not-found',
  z.object({ id: z.string().regex(/^\d{1,15}$/, { error: ID }) }),
);

const NOT_JSON = 'the request body must be JSON: {"name", "url", "secret", "events": [...], "crates": [...]}';

export const webhookBody = requestSchema(
  'invalid-webhook',
  jsonInBuffer(
    NOT_JSON,
    z.object(
      {
        name: z.string({ error: 'name: expected a string' }),
        url: z.string({ error: 'url: expected a string' }),
        secret: z.string({ error: 'secret: expected a string' }).optional(),
        events: z.array(z.string(), { error: `events: expected a list among ${WEBHOOK_EVENTS.join(', ')}` }),
        crates: z.array(z.string(), { error: 'crates: expected a list of crate patterns' }).optional(),
        enabled: z.boolean({ error: 'enabled: expected true or false' }).optional(),
      },
      { error: NOT_JSON },
    ),
  ),
);

export const deliveriesQuery = requestSchema(
  'invalid-webhook',
  z.object({
    endpoint: z.string().optional().meta({ description: 'only deliveries to this endpoint' }),
    status: z.enum(['pending', 'delivered', 'failed'], { error: 'status: expected pending, delivered or failed' }).optional(),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, { error: 'limit: expected a number up to 1000' })
      .optional()
      .meta({ description: 'at most this many (default 100, at most 1000)' }),
    offset: z
      .string()
      .regex(/^\d{1,9}$/, { error: 'offset: expected a number' })
      .optional(),
  }),
);

const timestamp = z.string().meta({ description: 'an ISO 8601 date and time (UTC)' });

export const webhookAnswer = z.object({
  id: z.number().int().nullable().meta({ description: 'null for an endpoint of the configuration file' }),
  name: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  crates: z.array(z.string()).nullable().meta({ description: 'crate patterns; null: every crate' }),
  enabled: z.boolean(),
  source: z.enum(['config', 'admin']),
});

export const webhooksAnswer = z.object({ webhooks: z.array(webhookAnswer) });

export const deliveryAnswer = z.object({
  id: z.number().int(),
  delivery_id: z.string().meta({ description: 'the X-Cratekeeper-Delivery header' }),
  endpoint: z.string(),
  event: z.string(),
  crate: z.string().nullable(),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  last_status: z.number().int().nullable().meta({ description: "the endpoint's last HTTP status" }),
  last_error: z.string().nullable(),
  last_attempt_at: timestamp.nullable(),
  next_attempt_at: timestamp.nullable(),
  created_at: timestamp,
  redelivery_of: z.number().int().nullable(),
});

export const deliveriesAnswer = z.object({ total: z.number().int(), deliveries: z.array(deliveryAnswer) });
