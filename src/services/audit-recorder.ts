// Records authenticated actions in the audit log without slowing requests: events are buffered in
// memory and written in batches; index reads, by far the most frequent, are only counted per
// token, crate and hour. A token's secret is never part of an event (only its id).

import type { AuditAction, AuditEvent, AuditLog } from '../ports/audit-log.js';
import type { TokenPrincipal } from '../ports/metadata-store.js';

const HOUR_MS = 3_600_000;

/** Who and from where: what a request knows about its caller. */
export interface AuditSource {
  principal: TokenPrincipal | null;
  ip: string | null;
  userAgent: string | null;
}

export class AuditRecorder {
  private pending: AuditEvent[] = [];
  private reads = new Map<string, AuditEvent & { hour: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly log: AuditLog,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** `fields.login` names the user when there is no principal yet (sign-ins). */
  record(action: AuditAction, source: AuditSource, fields: { crate?: string; version?: string; detail?: string; login?: string } = {}): void {
    this.pending.push({
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
    });
  }

  /** The hot path: one map lookup and an increment. */
  indexRead(source: AuditSource, crate: string): void {
    const hour = Math.floor(this.now() / HOUR_MS);
    const key = `${hour}|${source.principal?.tokenId ?? '-'}|${crate}`;
    const counted = this.reads.get(key);
    if (counted) {
      counted.count++;
      return;
    }
    this.reads.set(key, {
      hour,
      at: '',
      action: 'index-read',
      userLogin: source.principal?.login ?? null,
      tokenId: source.principal?.tokenId ?? null,
      crate,
      version: null,
      clientIp: source.ip,
      userAgent: source.userAgent,
      detail: null,
      count: 1,
    });
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush().catch(this.onError), intervalMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    const events = this.pending;
    this.pending = [];
    for (const { hour, ...read } of this.reads.values()) events.push({ ...read, at: new Date(hour * HOUR_MS).toISOString() });
    this.reads = new Map();
    await this.log.append(events);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
