// Background writers while the database is down: the audit recorder and the token last-use flush
// keep what failed for the next write (within bounds), never run two writes at once nor gather a
// queue of them, and catch up by themselves; repeated "unavailable" reports are thinned out.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenAuthenticator } from '../../src/auth/token-authenticator.js';
import { generateToken } from '../../src/domain/token.js';
import { RegistryError } from '../../src/domain/errors.js';
import type { AuditEvent, AuditLog } from '../../src/ports/audit-log.js';
import type { TokenPrincipal, Tokens } from '../../src/ports/tokens.js';
import { AuditRecorder, MAX_KEPT_EVENTS } from '../../src/services/audit-recorder.js';
import { throttleUnavailable } from '../../src/lib/outage-log.js';
import { eventually } from '../support/eventually.js';

const down = () => new RegistryError('unavailable', 'database-unavailable', 'the database is not answering; try again shortly');

/** A write that can be held open (a frozen database) and made to fail. */
class Gate {
  failing = false;
  writing = 0;
  maxWriting = 0;
  calls = 0;
  private release: (() => void) | undefined;
  private held: Promise<void> | undefined;

  hold(): void {
    this.held = new Promise((resolve) => (this.release = resolve));
  }
  open(): void {
    this.release?.();
    this.held = undefined;
  }
  async pass(): Promise<void> {
    this.calls++;
    this.writing++;
    this.maxWriting = Math.max(this.maxWriting, this.writing);
    try {
      await this.held;
      if (this.failing) throw down();
    } finally {
      this.writing--;
    }
  }
}

class FakeAuditLog implements AuditLog {
  readonly gate = new Gate();
  written: AuditEvent[] = [];
  async append(events: readonly AuditEvent[]): Promise<void> {
    await this.gate.pass();
    this.written.push(...events);
  }
  async query(): Promise<{ total: number; events: (AuditEvent & { id: number })[] }> {
    return { total: 0, events: [] };
  }
  async prune(): Promise<number> {
    return 0;
  }
}

const source = { principal: null, ip: '192.0.2.1', userAgent: 'test' };
// An action written one event each (refusals are counted: audit-recorder-refusals.test.ts).
const ACTION = 'docs-upload';

describe('the audit recorder during an outage', () => {
  it('keeps a failed batch, in order, and writes it once the log answers again', async () => {
    const log = new FakeAuditLog();
    const errors: unknown[] = [];
    const audit = new AuditRecorder(log, (e) => errors.push(e));
    audit.record(ACTION, source, { detail: 'first' });
    log.gate.failing = true;
    await assert.rejects(audit.flush(), /the database is not answering/);
    audit.record(ACTION, source, { detail: 'second' });
    await assert.rejects(audit.flush());
    assert.equal(audit.pendingEvents, 2);
    log.gate.failing = false;
    await audit.flush();
    assert.deepEqual(
      log.written.map((e) => e.detail),
      ['first', 'second'],
    );
    assert.equal(audit.pendingEvents, 0);
  });

  it('runs one flush at a time: the timer skips its rounds while a write hangs', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const log = new FakeAuditLog();
    const audit = new AuditRecorder(log, () => {});
    log.gate.hold();
    audit.record(ACTION, source);
    audit.start(10);
    t.mock.timers.tick(10);
    await eventually(() => assert.equal(log.gate.writing, 1));
    // Ten timer rounds pass while the write hangs; none starts another write.
    audit.record(ACTION, source);
    t.mock.timers.tick(100);
    assert.equal(log.gate.calls, 1);
    log.gate.open();
    await eventually(() => assert.equal(log.written.length, 1));
    t.mock.timers.tick(10); // the next round writes what came meanwhile
    await eventually(() => assert.equal(log.written.length, 2));
    await audit.stop();
    assert.equal(log.gate.maxWriting, 1);
  });

  it('keeps at most MAX_KEPT_EVENTS, dropping the oldest and saying so', async () => {
    const log = new FakeAuditLog();
    const errors: unknown[] = [];
    const audit = new AuditRecorder(log, (e) => errors.push(e));
    log.gate.failing = true;
    for (let i = 0; i < MAX_KEPT_EVENTS + 5; i++) audit.record(ACTION, source, { detail: String(i) });
    await assert.rejects(audit.flush());
    assert.equal(audit.pendingEvents, MAX_KEPT_EVENTS);
    assert.match(String(errors[0]), /5 audit events dropped/);
    log.gate.failing = false;
    await audit.flush();
    assert.equal(log.written[0]!.detail, '5');
  });
});

describe('the token last-use flush during an outage', () => {
  const principal: TokenPrincipal = {
    tokenId: 7,
    userId: 1,
    login: 'alice',
    isAdmin: false,
    expiresAt: null,
    scopes: null,
    cratePatterns: null,
    groups: [],
    origin: null,
  };
  function storeWith(gate: Gate, batches: ReadonlyMap<number, string>[]): Tokens {
    return {
      findPrincipalByTokenHash: async () => principal,
      recordTokenUse: async (uses: ReadonlyMap<number, string>) => {
        await gate.pass();
        batches.push(new Map(uses));
      },
    } as unknown as Tokens;
  }

  it('merges a failed batch back and writes it later; calls during a write share one write after it', async () => {
    const gate = new Gate();
    const batches: ReadonlyMap<number, string>[] = [];
    let now = 1_000_000;
    const auth = new TokenAuthenticator(storeWith(gate, batches), () => now);
    const token = generateToken();
    assert.equal((await auth.authenticate(token)).status, 'ok');
    gate.failing = true;
    await assert.rejects(auth.flushLastUse(), /the database is not answering/);

    gate.failing = false;
    gate.hold();
    const first = auth.flushLastUse();
    now += 1000;
    assert.equal(auth.authenticateFromCache(token)?.status, 'ok'); // used again meanwhile
    const second = [auth.flushLastUse(), auth.flushLastUse(), auth.flushLastUse()];
    assert.equal(second[0], second[1], 'calls during a write do not queue one write each');
    gate.open();
    await Promise.all([first, ...second]);
    assert.equal(gate.maxWriting, 1);
    assert.deepEqual(
      batches.map((b) => b.get(7)),
      [new Date(1_000_000).toISOString(), new Date(1_001_000).toISOString()],
    );
  });
});

describe('reports of background failures', () => {
  it('logs the first "unavailable" of a kind, then at most once per interval with the count left out', () => {
    const reports: [string, number][] = [];
    let now = 0;
    const report = throttleUnavailable(
      (error, { repeatsLeftOut }) => reports.push([(error as Error).message, repeatsLeftOut]),
      60_000,
      () => now,
    );
    for (let i = 0; i < 100; i++) report(down());
    report(new Error('a bug'));
    report(new Error('a bug'));
    now = 60_000;
    report(down());
    assert.deepEqual(reports, [
      ['the database is not answering; try again shortly', 0],
      ['a bug', 0],
      ['a bug', 0],
      ['the database is not answering; try again shortly', 99],
    ]);
  });
});
