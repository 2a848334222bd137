// Webhook deliveries. A change to a crate (publish, yank, unyank, owners) records its event in the
// change's own transaction (WebhookDeliveries.recordEvent), so a crash after the commit cannot lose
// it; the policy's events, which change no crate, are recorded when the audit recorder hears them.
// Each process turns recorded events into one delivery per endpoint that wants them (taking an
// event and queueing its deliveries is one transaction, so that happens once across processes),
// and sends them in the background, so the request that caused an event never waits for a receiver.
// Every process polls the queue; a delivery is claimed with a lease, so one process sends it
// (a replica picks up what another left, a restart loses nothing queued). A failed attempt
// (no 2xx, a timeout, a refused connection) is retried after a wait that doubles each time, up to
// `maxAttempts`; then the delivery is marked failed, and an admin may redeliver it.

import { randomUUID } from 'node:crypto';
import { conflict, notFound } from '../domain/errors.js';
import {
  DELIVERY_HEADER,
  endpointWants,
  EVENT_HEADER,
  isWebhookEvent,
  newOccurrence,
  SIGNATURE_HEADER,
  webhookBody,
  webhookSignature,
  type WebhookOccurrence,
} from '../domain/webhook-events.js';
import type { AuditEvent } from '../ports/audit-log.js';
import type { MetadataDatabase } from '../ports/metadata-database.js';
import type { DeliveryOutcome, DeliveryStatus, NewWebhookDelivery, WebhookDeliveries, WebhookDeliveryRecord } from '../ports/webhooks.js';
import type { ResolvedEndpoint, WebhookEndpointsService } from './webhook-endpoints.js';
import type { WebhookSend } from './webhook-sender.js';

export interface WebhookDeliverySettings {
  timeoutMs: number;
  maxAttempts: number;
  retryInitialMs: number;
  retryMaxMs: number;
  concurrency: number;
  responseLimit: number;
}

/** Events taken at once, so one transaction stays short however many wait. */
const EVENT_BATCH = 100;

/** Events the services record in the transaction of their change; the audit recorder's copy only wakes the sender. */
const RECORDED_WITH_CHANGE: ReadonlySet<string> = new Set(['publish', 'yank', 'unyank', 'owner-add', 'owner-remove']);

/** A claim outlives the attempt it covers by this much, so a slow attempt is never sent twice. */
const LEASE_MARGIN_MS = 30_000;
const USER_AGENT = 'cratekeeper-webhooks';

export interface WebhookServiceDeps {
  deliveries: WebhookDeliveries;
  /** For taking recorded events and queueing their deliveries in one transaction. */
  database: Pick<MetadataDatabase, 'transaction'>;
  endpoints: WebhookEndpointsService;
  send: WebhookSend;
  settings: WebhookDeliverySettings;
  /** The registry's public URL, in every body; known once the server listens. */
  registryUrl: () => string;
  onError: (error: unknown) => void;
  now: () => number;
}

export class WebhookService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly enqueuing = new Set<Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: WebhookServiceDeps) {}

  /**
   * An audit listener, after the action committed: records a policy event, and wakes the sender
   * for an event its service recorded with the change. Never throws.
   */
  readonly hear = (event: AuditEvent): void => {
    if (!isWebhookEvent(event.action)) return;
    if (RECORDED_WITH_CHANGE.has(event.action)) return this.kick();
    const { crate, version, userLogin: actor, detail } = event;
    const occurrence = newOccurrence(event.action, { crate, version, actor, detail }, event.at);
    const recorded = this.deps.deliveries
      .recordEvent(occurrence)
      .then(() => this.kick())
      .catch(this.deps.onError)
      .finally(() => this.enqueuing.delete(recorded));
    this.enqueuing.add(recorded);
  };

  /**
   * Turns recorded events into deliveries, to the endpoints that want each (a crate only to those
   * whose filter covers it), a batch per transaction; answers how many events it took.
   */
  async queueRecordedEvents(): Promise<number> {
    let taken = 0;
    for (;;) {
      const endpoints = await this.deps.endpoints.active();
      const batch = await this.deps.database.transaction(async (repos) => {
        const events = await repos.webhookDeliveries.takeEvents(EVENT_BATCH);
        const rows = events.flatMap((occurrence) => this.deliveriesOf(occurrence, endpoints));
        await repos.webhookDeliveries.enqueue(rows, this.isoNow());
        return events.length;
      });
      taken += batch;
      if (batch < EVENT_BATCH) return taken;
    }
  }

  private deliveriesOf(occurrence: WebhookOccurrence, endpoints: readonly ResolvedEndpoint[]): NewWebhookDelivery[] {
    const body = webhookBody(occurrence, this.deps.registryUrl());
    return endpoints
      .filter((e) => endpointWants(e, occurrence))
      .map((e) => ({
        deliveryId: randomUUID(),
        endpoint: e.name,
        event: occurrence.event,
        crate: occurrence.crate,
        body,
        redeliveryOf: null,
      }));
  }

  /** Queues the same body again to the same endpoint, as a new delivery (new delivery id). */
  async redeliver(id: number): Promise<WebhookDeliveryRecord> {
    const original = await this.deps.deliveries.get(id);
    if (!original) throw notFound('webhook-delivery-not-found', `no webhook delivery with id ${id}`);
    const endpoint = (await this.deps.endpoints.active()).find((e) => e.name === original.endpoint);
    const refusal = endpoint ? noLongerWanted(endpoint, original) : `the endpoint "${original.endpoint}" was deleted or disabled`;
    if (refusal !== undefined) throw conflict('webhook-redelivery-refused', `cannot redeliver delivery ${id}: ${refusal}`);
    const [queued] = await this.deps.deliveries.enqueue(
      [
        {
          deliveryId: randomUUID(),
          endpoint: original.endpoint,
          event: original.event,
          crate: original.crate,
          body: original.body,
          redeliveryOf: id,
        },
      ],
      this.isoNow(),
    );
    this.kick();
    return queued!;
  }

  list(query: { endpoint?: string; status?: DeliveryStatus; limit: number; offset: number }) {
    return this.deps.deliveries.list(query);
  }

  start(pollIntervalMs: number): void {
    this.timer = setInterval(() => this.kick(), pollIntervalMs);
    this.timer.unref();
    this.kick();
  }

  /** Sends what is due now (one round at a time; a call during a round asks for another). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runDue()
      .catch(this.deps.onError)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Claims and sends due deliveries until none is left; resolves when they are recorded. */
  async runDue(): Promise<void> {
    const { concurrency, timeoutMs } = this.deps.settings;
    await this.queueRecordedEvents();
    for (;;) {
      const now = this.deps.now();
      const claim = randomUUID();
      const until = new Date(now + timeoutMs + LEASE_MARGIN_MS).toISOString();
      const batch = await this.deps.deliveries.claimDue(new Date(now).toISOString(), until, claim, concurrency);
      if (batch.length === 0) return;
      const endpoints = await this.deps.endpoints.active();
      await Promise.all(batch.map((d) => this.attempt(d, claim, endpoints)));
      if (batch.length < concurrency || this.stopped) return;
    }
  }

  /** Waits for the round under way and the deliveries being queued. */
  async idle(): Promise<void> {
    while (this.enqueuing.size > 0 || this.running) {
      await Promise.all([...this.enqueuing]);
      await this.running;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.enqueuing]);
    this.stopped = true;
    await this.running;
  }

  private async attempt(delivery: WebhookDeliveryRecord, claim: string, endpoints: Awaited<ReturnType<WebhookEndpointsService['active']>>) {
    const { settings } = this.deps;
    const endpoint = endpoints.find((e) => e.name === delivery.endpoint);
    const attempts = delivery.attempts + 1;
    const at = this.deps.now();
    let outcome: DeliveryOutcome;
    // Checked again now: an admin may have deleted, disabled or narrowed the endpoint since the
    // delivery was queued, and a crate's name must never reach an endpoint whose filter lost it.
    const refusal = endpoint ? noLongerWanted(endpoint, delivery) : `the endpoint "${delivery.endpoint}" was deleted or disabled`;
    if (!endpoint || refusal !== undefined) {
      const error = refusal!;
      outcome = {
        status: 'failed',
        attempts: delivery.attempts,
        lastStatus: null,
        lastError: error,
        lastAttemptAt: iso(at),
        nextAttemptAt: null,
      };
    } else {
      const unixSeconds = Math.floor(at / 1000);
      const result = await this.deps.send({
        url: endpoint.url,
        body: delivery.body,
        timeoutMs: settings.timeoutMs,
        responseLimit: settings.responseLimit,
        headers: {
          'user-agent': USER_AGENT,
          [EVENT_HEADER]: delivery.event,
          [DELIVERY_HEADER]: delivery.deliveryId,
          [SIGNATURE_HEADER]: webhookSignature(endpoint.secret, unixSeconds, delivery.body),
        },
      });
      const finished = this.deps.now();
      const retry = !result.ok && attempts < settings.maxAttempts;
      const wait = Math.min(settings.retryInitialMs * 2 ** (attempts - 1), settings.retryMaxMs);
      outcome = {
        status: result.ok ? 'delivered' : retry ? 'pending' : 'failed',
        attempts,
        lastStatus: result.status,
        lastError: result.error,
        lastAttemptAt: iso(at),
        nextAttemptAt: retry ? iso(finished + wait) : null,
      };
    }
    await this.deps.deliveries.finish(delivery.id, claim, outcome);
  }

  private isoNow(): string {
    return iso(this.deps.now());
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Why an endpoint, as it is now, must not get a delivery queued for it earlier; undefined when it may. */
function noLongerWanted(endpoint: ResolvedEndpoint, delivery: WebhookDeliveryRecord): string | undefined {
  if (!endpoint.events.includes(delivery.event)) return `the endpoint "${endpoint.name}" no longer takes ${delivery.event} events`;
  if (!endpointWants(endpoint, delivery)) return `the endpoint "${endpoint.name}" no longer covers this crate`;
  return undefined;
}
