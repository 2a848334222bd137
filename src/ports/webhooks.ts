// Webhook endpoints made on the admin pages, and the queue and log of deliveries. The queue is in
// the database so that deliveries survive a restart and any replica sends what another left; a
// delivery is claimed with a lease (`claimDue`) so that one process sends it at a time.

import type { WebhookOccurrence } from '../domain/webhook-events.js';

export interface WebhookEndpointRecord {
  id: number;
  name: string;
  url: string;
  /** The signing secret, sealed (auth/sealed-secrets.ts); never shown. */
  sealedSecret: string;
  events: string[];
  /** Crate patterns; null: every crate. */
  crates: string[] | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookEndpointInput {
  name: string;
  url: string;
  sealedSecret: string;
  events: string[];
  crates: string[] | null;
  enabled: boolean;
}

export interface WebhookEndpoints {
  list(): Promise<WebhookEndpointRecord[]>;
  /** Throws `webhook-exists` when the name is taken. */
  create(input: WebhookEndpointInput, at: string): Promise<WebhookEndpointRecord>;
  /** False when there is no such endpoint; `sealedSecret` undefined keeps the secret. */
  update(id: number, input: Omit<WebhookEndpointInput, 'sealedSecret'> & { sealedSecret?: string }, at: string): Promise<boolean>;
  remove(id: number): Promise<boolean>;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface NewWebhookDelivery {
  deliveryId: string;
  endpoint: string;
  event: string;
  crate: string | null;
  body: string;
  /** The delivery this one repeats (an admin's redelivery). */
  redeliveryOf: number | null;
}

export interface WebhookDeliveryRecord extends NewWebhookDelivery {
  id: number;
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  lastAttemptAt: string;
  nextAttemptAt: string | null;
}

export interface WebhookDeliveries {
  /**
   * Records that something happened, for the endpoints that want it. Called in the unit of work of
   * the change itself (a publish, a yank, an owner change), so the event commits with the change.
   */
  recordEvent(occurrence: WebhookOccurrence): Promise<void>;
  /**
   * Removes and answers up to `limit` recorded events, oldest first. In the unit of work that
   * queues their deliveries, so each event is turned into deliveries once, across processes.
   */
  takeEvents(limit: number): Promise<WebhookOccurrence[]>;
  /** Marks an endpoint's pending deliveries failed with `reason` (it was deleted); answers how many. */
  cancelPending(endpoint: string, reason: string, at: string): Promise<number>;
  /** Queues deliveries due at `at`; answers them as stored. */
  enqueue(deliveries: readonly NewWebhookDelivery[], at: string): Promise<WebhookDeliveryRecord[]>;
  /**
   * Claims up to `limit` pending deliveries due at `at` whose lease has run out, for `claim` until
   * `until`. A delivery is claimed by one caller only, across processes.
   */
  claimDue(at: string, until: string, claim: string, limit: number): Promise<WebhookDeliveryRecord[]>;
  /** Records an attempt; ignored when the claim was lost (the lease ran out and another took it). */
  finish(id: number, claim: string, outcome: DeliveryOutcome): Promise<boolean>;
  get(id: number): Promise<WebhookDeliveryRecord | undefined>;
  /** Newest first. */
  list(query: { endpoint?: string; status?: DeliveryStatus; limit: number; offset: number }): Promise<{
    total: number;
    deliveries: WebhookDeliveryRecord[];
  }>;
}
