// A flush of many audit events is written in bounded slices, and the event loop runs between two
// of them: under download load thousands of events gather between flushes, and writing them in one
// go held every request for the whole batch (bench/README.md, "hot-path tail").

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/domain/errors.js';
import type { AuditEvent, AuditLog } from '../../src/ports/audit-log.js';
import { APPEND_SLICE, AuditRecorder } from '../../src/services/audit-recorder.js';

/** Counts turns of the event loop: a callback queued with setImmediate that queues itself again. */
class LoopTurns {
  count = 0;
  private running = true;
  constructor() {
    const turn = () => {
      this.count++;
      if (this.running) setImmediate(turn);
    };
    setImmediate(turn);
  }
  stop(): void {
    this.running = false;
  }
}

/** An audit log that remembers each append's events and how many loop turns had passed by then. */
class SliceLog implements AuditLog {
  readonly appends: { events: AuditEvent[]; turns: number }[] = [];
  failAt: number | undefined;
  constructor(private readonly turns: LoopTurns) {}
  async append(events: readonly AuditEvent[]): Promise<void> {
    if (this.appends.length === this.failAt) {
      this.failAt = undefined;
      throw new RegistryError('unavailable', 'database-unavailable', 'the database is not answering; try again shortly');
    }
    // A synchronous store (better-sqlite3): nothing here gives the loop a turn.
    this.appends.push({ events: [...events], turns: this.turns.count });
  }
  async query(): Promise<{ total: number; events: (AuditEvent & { id: number })[] }> {
    return { total: 0, events: [] };
  }
  async prune(): Promise<number> {
    return 0;
  }
}

const source = { principal: null, ip: '192.0.2.1', userAgent: 'test' };

function recordMany(audit: AuditRecorder, n: number): void {
  for (let i = 0; i < n; i++) audit.record('download', source, { crate: 'hot', version: '1.0.0', detail: String(i) });
}

describe('audit recorder flushes in slices', () => {
  it('writes 100,000 pending events in slices of at most APPEND_SLICE, in order, with the loop free between two', async () => {
    const turns = new LoopTurns();
    const log = new SliceLog(turns);
    const audit = new AuditRecorder(log, () => {});
    recordMany(audit, 100_000);
    await audit.flush();
    turns.stop();

    assert.equal(log.appends.length, Math.ceil(100_000 / APPEND_SLICE));
    for (const { events } of log.appends) assert.ok(events.length > 0 && events.length <= APPEND_SLICE, `a slice of ${events.length}`);
    const details = log.appends.flatMap((a) => a.events.map((e) => Number(e.detail)));
    assert.deepEqual(
      details,
      Array.from({ length: 100_000 }, (_, i) => i),
    );
    // Between any two slices the event loop took at least one turn (requests could be answered).
    for (let i = 1; i < log.appends.length; i++)
      assert.ok(log.appends[i].turns > log.appends[i - 1].turns, `no loop turn between slices ${i - 1} and ${i}`);
    assert.equal(audit.pendingEvents, 0);
  });

  it('keeps the slice that failed and every later one, writes them next time, and never writes one twice', async () => {
    const turns = new LoopTurns();
    const log = new SliceLog(turns);
    const audit = new AuditRecorder(log, () => {});
    recordMany(audit, 5 * APPEND_SLICE + 10);
    log.failAt = 2;
    await assert.rejects(audit.flush(), /not answering/);
    assert.equal(log.appends.length, 2);
    assert.equal(audit.pendingEvents, 3 * APPEND_SLICE + 10);
    audit.record('login-failed', source, { detail: 'later' });
    await audit.flush();
    turns.stop();

    const details = log.appends.flatMap((a) => a.events.map((e) => e.detail));
    assert.deepEqual(details, [...Array.from({ length: 5 * APPEND_SLICE + 10 }, (_, i) => String(i)), 'later']);
    assert.equal(audit.pendingEvents, 0);
  });

  it('writes what is pending when stopped', async () => {
    const turns = new LoopTurns();
    const log = new SliceLog(turns);
    const audit = new AuditRecorder(log, () => {});
    audit.start(3_600_000);
    recordMany(audit, 2 * APPEND_SLICE + 1);
    audit.indexRead(source, 'hot');
    await audit.stop();
    turns.stop();
    const written = log.appends.flatMap((a) => a.events);
    assert.equal(written.length, 2 * APPEND_SLICE + 2);
    assert.equal(written.at(-1)!.action, 'index-read');
  });
});
