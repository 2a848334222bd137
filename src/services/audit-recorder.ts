// Records authenticated actions in the audit log without slowing requests: events are buffered in
// memory and written in batches; index reads, by far the most frequent, are only counted per
// token, crate and hour. A token's secret is never part of an event (only its id).
// While the database is down, flushes fail: one runs at a time (the timer skips a round while one
// is under way), and a failed batch is kept for the next, up to MAX_KEPT_EVENTS; beyond that the
// oldest are dropped and the drop is reported, so an outage costs bounded memory. (A batch whose
// commit went through but whose answer was lost is written twice: a duplicate beats a gap.)
// A flush writes in slices of at most APPEND_SLICE events and lets the event loop run between two:
// under download load thousands of events gather between flushes (one per download), and writing
// them in one go held every request for the whole batch. A slice that fails keeps itself and every
// later one for the next flush; the slices written before it stay written.
// Listeners (webhooks) hear each recorded action as it is recorded: services record an action once
// its change committed, so this is the one place every reported action passes. Refusals, which a
// client causes at will, are counted (audit-refusals.ts): listeners hear a refusal the first time
// it happens in a minute, and the event that counts its repeats when it is written.

import { setImmediate as loopTurn } from 'node:timers/promises';
import type { AuditAction, AuditEvent, AuditLog } from '../ports/audit-log.js';
import type { TokenPrincipal } from '../ports/tokens.js';
import { RefusalCounts, REFUSAL_ACTIONS } from './audit-refusals.js';

const HOUR_MS = 3_600_000;
/** Events kept in memory across failed flushes. */
export const MAX_KEPT_EVENTS = 20_000;
/** Events written by one append; the event loop runs between two. */
export const APPEND_SLICE = 500;

/** Who and from where: what a request knows about its caller. */
export interface AuditSource {
  principal: TokenPrincipal | null;
  ip: string | null;
  userAgent: string | null;
}

export class AuditRecorder {
  private pending: AuditEvent[] = [];
  /** Counted index reads not yet written, in the order of their first read. */
  private reads: AuditEvent[] = [];
  /**
   * This hour's counted reads by token id (null without a token), then crate: keys that are numbers
   * and the name the index cache was asked with, so counting a read builds no string.
   */
  private hourReads = new Map<number | null, Map<string, AuditEvent>>();
  /** The hour index reads are counted in, and its start as events carry it: one string an hour, not one a read. */
  private readHour = { hour: Number.NaN, at: '' };
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly listeners: ((event: AuditEvent) => void)[] = [];
  private readonly refusals = new RefusalCounts();

  constructor(
    private readonly log: AuditLog,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** `fields.login` names the user when there is no principal yet (sign-ins). */
  record(
    action: AuditAction,
    source: AuditSource,
    fields: { crate?: string; version?: string; detail?: string; login?: string } = {},
  ): void {
    const event: AuditEvent = {
      at: new Date(this.now()).toISOString(),
      action,
      userLogin: fields.login ?? source.principal?.login ?? null,
      tokenId: source.principal?.tokenId ?? null,
      crate: fields.crate ?? null,
      version: fields.version ?? null,
      clientIp: source.ip,
      userAgent: source.userAgent,
      detail: fields.detail ?? null,
      count: 1,
    };
    if (REFUSAL_ACTIONS.has(action)) {
      this.takeEndedRefusals();
      if (this.refusals.count(event, this.now()) === undefined) return;
    }
    this.queue(event);
  }

  private queue(event: AuditEvent): void {
    this.pending.push(event);
    for (const listener of this.listeners) listener(event);
  }

  /** Queues the events that count the refusals of a minute that has ended (of this one too with `endNow`). */
  private takeEndedRefusals(endNow = false): void {
    for (const event of this.refusals.ended(this.now(), endNow)) this.queue(event);
  }

  /** `listener` hears every action recorded from now on (not index reads); it must not throw. */
  listen(listener: (event: AuditEvent) => void): void {
    this.listeners.push(listener);
  }

  /** The hot path: two map lookups and an increment. */
  indexRead(source: AuditSource, crate: string): void {
    const hour = Math.floor(this.now() / HOUR_MS);
    if (hour !== this.readHour.hour) {
      this.readHour = { hour, at: new Date(hour * HOUR_MS).toISOString() };
      this.hourReads = new Map();
    }
    const tokenId = source.principal?.tokenId ?? null;
    let byCrate = this.hourReads.get(tokenId);
    if (byCrate === undefined) this.hourReads.set(tokenId, (byCrate = new Map()));
    const counted = byCrate.get(crate);
    if (counted) {
      counted.count++;
      return;
    }
    const event: AuditEvent = {
      at: this.readHour.at,
      action: 'index-read',
      userLogin: source.principal?.login ?? null,
      tokenId: source.principal?.tokenId ?? null,
      crate,
      version: null,
      clientIp: source.ip,
      userAgent: source.userAgent,
      detail: null,
      count: 1,
    };
    byCrate.set(crate, event);
    this.reads.push(event);
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => {
      if (!this.flushing) void this.flush().catch(this.onError);
    }, intervalMs);
    this.timer.unref();
  }

  /** Writes what was recorded (after a flush under way); rejects if the log did, keeping the events. */
  flush(): Promise<void> {
    const previous = this.flushing ?? Promise.resolve();
    const current: Promise<void> = previous
      .catch(() => {})
      .then(() => this.write())
      .finally(() => {
        if (this.flushing === current) this.flushing = undefined;
      });
    this.flushing = current;
    return current;
  }

  /** Events waiting to be written (index reads count once per token, crate and hour). */
  get pendingEvents(): number {
    return this.pending.length + this.reads.length;
  }

  private async write(): Promise<void> {
    this.takeEndedRefusals();
    const events = this.pending;
    this.pending = [];
    // The counted events themselves, not copies: under cold reads there are thousands, each one
    // already old to V8, and a copy of each lived through the flush's slices and was promoted too.
    for (const read of this.reads) events.push(read);
    this.reads = [];
    this.hourReads = new Map();
    let written = 0;
    try {
      while (written < events.length) {
        if (written > 0) await loopTurn();
        const slice = events.slice(written, written + APPEND_SLICE);
        await this.log.append(slice);
        written += slice.length;
      }
    } catch (error) {
      // What was not written is kept for the next flush, in order, before what was recorded
      // meanwhile; the oldest go first.
      const kept = events.slice(written).concat(this.pending);
      const dropped = Math.max(0, kept.length - MAX_KEPT_EVENTS);
      this.pending = dropped > 0 ? kept.slice(dropped) : kept;
      if (dropped > 0)
        this.onError(new Error(`audit log unavailable: ${dropped} audit events dropped (more than ${MAX_KEPT_EVENTS} waiting)`));
      throw error;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.takeEndedRefusals(true);
    await this.flush().catch(this.onError);
  }
}
