// Refusals are the audit events a client causes at will: a sign-in form without its CSRF cookie, a
// hidden crate's index file, a page the caller may not see, a device code that does not exist. One
// row each let anyone with no token write 10,000 rows a second (about 500 GB a day). Here each
// different refusal (same action, token, login, address, crate, version and detail) is written the
// first time it happens in a minute, as before; its repeats in that minute are counted in one more
// event, written once the minute has ended. Beyond MAX_REFUSALS_A_MINUTE different refusals in a
// minute (an attacker can vary the path, the login or, with IPv6, the address), the rest of each
// action are counted together in one event. So a flood writes at most about twice that many rows a
// minute, whatever its rate, and nothing it does goes uncounted.

import type { AuditAction, AuditEvent } from '../ports/audit-log.js';

/** The actions counted as refusals (audit-recorder.ts sends these here). */
export const REFUSAL_ACTIONS: ReadonlySet<AuditAction> = new Set<AuditAction>([
  'access-refused',
  'login-failed',
  'policy-refused',
  'device-code-unknown',
  'device-refresh-refused',
  'device-refresh-replayed',
]);
/** Different refusals written one by one in a minute; the rest are counted together, by action. */
export const MAX_REFUSALS_A_MINUTE = 100;
/** A refusal's detail may quote what the client sent (a page's path): it is cut to this length. */
export const MAX_REFUSAL_DETAIL = 300;

const MINUTE_MS = 60_000;

export const OVERFLOW_DETAIL = `more than ${MAX_REFUSALS_A_MINUTE} different refusals in this minute: the others are counted here`;

export class RefusalCounts {
  private minute = Number.NaN;
  /** This minute's refusals by what makes them the same; a refusal's repeats once it has any. */
  private seen = new Map<string, { repeats?: AuditEvent }>();
  /** This minute's refusals beyond the limit, one event per action. */
  private overflow = new Map<AuditAction, AuditEvent>();

  /**
   * The event to write now: `event` itself, the first time it is seen this minute (its detail cut
   * to MAX_REFUSAL_DETAIL). Undefined when it is counted instead, in an event written when the
   * minute has ended (`ended`).
   */
  count(event: AuditEvent, nowMs: number): AuditEvent | undefined {
    if (event.detail !== null && event.detail.length > MAX_REFUSAL_DETAIL) event.detail = event.detail.slice(0, MAX_REFUSAL_DETAIL);
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (minute !== this.minute) {
      this.minute = minute;
      this.seen = new Map();
      this.overflow = new Map();
    }
    const key = JSON.stringify([event.action, event.tokenId, event.userLogin, event.clientIp, event.crate, event.version, event.detail]);
    const seen = this.seen.get(key);
    if (seen !== undefined) {
      if (seen.repeats === undefined) seen.repeats = event;
      else seen.repeats.count++;
      return undefined;
    }
    if (this.seen.size < MAX_REFUSALS_A_MINUTE) {
      this.seen.set(key, {});
      return event;
    }
    const counted = this.overflow.get(event.action);
    if (counted === undefined) {
      this.overflow.set(event.action, {
        ...event,
        userLogin: null,
        tokenId: null,
        crate: null,
        version: null,
        clientIp: null,
        userAgent: null,
        detail: OVERFLOW_DETAIL,
      });
    } else {
      counted.count++;
    }
    return undefined;
  }

  /**
   * The counting events of a minute that has ended by `nowMs` (of the current one too with
   * `endNow`, when the recorder stops), each handed out once.
   */
  ended(nowMs: number, endNow = false): AuditEvent[] {
    if (this.seen.size === 0 || (!endNow && Math.floor(nowMs / MINUTE_MS) === this.minute)) return [];
    const events: AuditEvent[] = [];
    for (const { repeats } of this.seen.values()) if (repeats !== undefined) events.push(repeats);
    events.push(...this.overflow.values());
    this.minute = Number.NaN;
    this.seen = new Map();
    this.overflow = new Map();
    return events;
  }
}
