// An audit log in memory, and a recorder on a clock of the test's writing into it: what the
// recorder's unit tests read back.

import type { AuditEvent, AuditLog } from '../../src/ports/audit-log.js';
import { AuditRecorder } from '../../src/services/audit-recorder.js';

export class MemoryLog implements AuditLog {
  readonly written: AuditEvent[] = [];
  async append(events: readonly AuditEvent[]): Promise<void> {
    this.written.push(...events.map((event) => ({ ...event })));
  }
  async query(): Promise<{ total: number; events: (AuditEvent & { id: number })[] }> {
    return { total: 0, events: [] };
  }
  async prune(): Promise<number> {
    return 0;
  }
}

export function recorderAt(clock: () => number): { log: MemoryLog; audit: AuditRecorder } {
  const log = new MemoryLog();
  return { log, audit: new AuditRecorder(log, () => {}, clock) };
}
