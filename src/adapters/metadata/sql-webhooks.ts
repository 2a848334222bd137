// Webhook endpoints and deliveries in SQL (SQLite or PostgreSQL). A delivery is claimed with a
// conditional UPDATE (`... WHERE id = ? AND status = 'pending' AND claimed_until <= now`): of
// several processes that race for a row, the database lets one update it, on both dialects
// (PostgreSQL re-checks the condition on the row another transaction just changed).

import type { Selectable } from 'kysely';
import { conflict } from '../../domain/errors.js';
import { isWebhookEvent, type WebhookEvent, type WebhookOccurrence } from '../../domain/webhook-events.js';
import type {
  DeliveryOutcome,
  DeliveryStatus,
  NewWebhookDelivery,
  WebhookDeliveries,
  WebhookDeliveryRecord,
  WebhookEndpointInput,
  WebhookEndpointRecord,
  WebhookEndpoints,
} from '../../ports/webhooks.js';
import { fromJsonList, toJsonList } from './sql-rows.js';
import type { Database } from './sql-schema.js';
import type { SqlScope } from './sql-scope.js';

const NEVER_CLAIMED = '1970-01-01T00:00:00.000Z';

function toEndpoint(row: Selectable<Database['webhook_endpoints']>): WebhookEndpointRecord {
  return {
    id: row.id,
    name: row.name,
    url: row.url,
    sealedSecret: row.secret_sealed,
    events: fromJsonList(row.events) ?? [],
    crates: fromJsonList(row.crates),
    enabled: row.enabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toDelivery(row: Selectable<Database['webhook_deliveries']>): WebhookDeliveryRecord {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    endpoint: row.endpoint,
    event: row.event,
    crate: row.crate,
    body: row.body,
    redeliveryOf: row.redelivery_of,
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    lastStatus: row.last_status,
    lastError: row.last_error,
    lastAttemptAt: row.last_attempt_at,
    nextAttemptAt: row.next_attempt_at,
    createdAt: row.created_at,
  };
}

export class SqlWebhookEndpoints implements WebhookEndpoints {
  constructor(private readonly scope: SqlScope) {}

  async list(): Promise<WebhookEndpointRecord[]> {
    const rows = await this.scope.db.selectFrom('webhook_endpoints').selectAll().orderBy('name').execute();
    return rows.map(toEndpoint);
  }

  async create(input: WebhookEndpointInput, at: string): Promise<WebhookEndpointRecord> {
    try {
      const row = await this.scope.db
        .insertInto('webhook_endpoints')
        .values({
          name: input.name,
          url: input.url,
          secret_sealed: input.sealedSecret,
          events: toJsonList(input.events)!,
          crates: toJsonList(input.crates),
          enabled: input.enabled ? 1 : 0,
          created_at: at,
          updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toEndpoint(row);
    } catch (error) {
      if (this.scope.rules.isUniqueViolation(error)) throw conflict('webhook-exists', `a webhook named \`${input.name}\` already exists`);
      throw error;
    }
  }

  async update(id: number, input: Omit<WebhookEndpointInput, 'sealedSecret'> & { sealedSecret?: string }, at: string): Promise<boolean> {
    try {
      const result = await this.scope.db
        .updateTable('webhook_endpoints')
        .set({
          name: input.name,
          url: input.url,
          ...(input.sealedSecret !== undefined ? { secret_sealed: input.sealedSecret } : {}),
          events: toJsonList(input.events)!,
          crates: toJsonList(input.crates),
          enabled: input.enabled ? 1 : 0,
          updated_at: at,
        })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    } catch (error) {
      if (this.scope.rules.isUniqueViolation(error)) throw conflict('webhook-exists', `a webhook named \`${input.name}\` already exists`);
      throw error;
    }
  }

  async remove(id: number): Promise<boolean> {
    const result = await this.scope.db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }
}

export class SqlWebhookDeliveries implements WebhookDeliveries {
  constructor(private readonly scope: SqlScope) {}

  async recordEvent(o: WebhookOccurrence): Promise<void> {
    await this.scope.db
      .insertInto('webhook_events')
      .values({ event_id: o.id, event: o.event, crate: o.crate, version: o.version, actor: o.actor, detail: o.detail, at: o.at })
      .execute();
  }

  async takeEvents(limit: number): Promise<WebhookOccurrence[]> {
    // Each event is answered to one taker. PostgreSQL: the oldest rows no concurrent taker has
    // locked (without SKIP LOCKED, takers that chose the same rows waited, found them gone and
    // answered nothing while events were left; the contract test caught it under load). SQLite:
    // one writer at a time, so a taker sees the rows the one before it left.
    const rows = await this.scope.db
      .deleteFrom('webhook_events')
      .where('id', 'in', (eb) => {
        const oldest = eb.selectFrom('webhook_events').select('id').orderBy('id').limit(limit);
        return this.scope.rules.name === 'postgres' ? oldest.forUpdate().skipLocked() : oldest;
      })
      .returningAll()
      .execute();
    return rows
      .sort((a, b) => Number(a.id) - Number(b.id))
      .filter((row) => isWebhookEvent(row.event))
      .map((row) => ({
        id: row.event_id,
        event: row.event as WebhookEvent,
        crate: row.crate,
        version: row.version,
        actor: row.actor,
        at: row.at,
        detail: row.detail,
      }));
  }

  async cancelPending(endpoint: string, reason: string, at: string): Promise<number> {
    const result = await this.scope.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', last_error: reason, next_attempt_at: null, last_attempt_at: at })
      .where('endpoint', '=', endpoint)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async enqueue(deliveries: readonly NewWebhookDelivery[], at: string): Promise<WebhookDeliveryRecord[]> {
    if (deliveries.length === 0) return [];
    const rows = await this.scope.db
      .insertInto('webhook_deliveries')
      .values(
        deliveries.map((d) => ({
          delivery_id: d.deliveryId,
          endpoint: d.endpoint,
          event: d.event,
          crate: d.crate,
          body: d.body,
          redelivery_of: d.redeliveryOf,
          status: 'pending',
          attempts: 0,
          next_attempt_at: at,
          claimed_until: NEVER_CLAIMED,
          created_at: at,
        })),
      )
      .returningAll()
      .execute();
    return rows.map(toDelivery);
  }

  async claimDue(at: string, until: string, claim: string, limit: number): Promise<WebhookDeliveryRecord[]> {
    const db = this.scope.db;
    const candidates = await db
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', at)
      .where('claimed_until', '<=', at)
      // In the order of the due index: ordered by id, PostgreSQL walked every delivery ever made
      // (delivered ones are kept) to find the pending few, 0.9 s a poll with a receiver down.
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    const claimed: WebhookDeliveryRecord[] = [];
    for (const { id } of candidates) {
      const row = await db
        .updateTable('webhook_deliveries')
        .set({ claimed_until: until, claim })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('claimed_until', '<=', at)
        .returningAll()
        .executeTakeFirst();
      if (row) claimed.push(toDelivery(row));
    }
    return claimed;
  }

  async finish(id: number, claim: string, outcome: DeliveryOutcome): Promise<boolean> {
    const result = await this.scope.db
      .updateTable('webhook_deliveries')
      .set({
        status: outcome.status,
        attempts: outcome.attempts,
        last_status: outcome.lastStatus,
        last_error: outcome.lastError,
        last_attempt_at: outcome.lastAttemptAt,
        next_attempt_at: outcome.nextAttemptAt,
        claimed_until: NEVER_CLAIMED,
        claim: null,
      })
      .where('id', '=', id)
      .where('claim', '=', claim)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async get(id: number): Promise<WebhookDeliveryRecord | undefined> {
    const row = await this.scope.db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  async list(query: { endpoint?: string; status?: DeliveryStatus; limit: number; offset: number }) {
    let select = this.scope.db.selectFrom('webhook_deliveries');
    if (query.endpoint !== undefined) select = select.where('endpoint', '=', query.endpoint);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    const [count, rows] = await Promise.all([
      select.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
      select.selectAll().orderBy('id', 'desc').limit(query.limit).offset(query.offset).execute(),
    ]);
    return { total: Number(count.n), deliveries: rows.map(toDelivery) };
  }
}
