// Index reads are counted per token, crate and hour, and written as events dated to the start of
// their hour: one per key a flush, whatever the number of reads.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditEvent } from '../../src/ports/audit-log.js';
import type { TokenPrincipal } from '../../src/ports/tokens.js';
import { recorderAt } from '../support/memory-audit-log.js';

const principal = (tokenId: number, login: string) => ({ tokenId, login }) as TokenPrincipal;
const from = (tokenId: number, login: string) => ({ principal: principal(tokenId, login), ip: '192.0.2.7', userAgent: 'cargo/1.95.0' });
const summary = (events: readonly AuditEvent[]) => events.map((e) => `${e.at} ${e.userLogin} #${e.tokenId} ${e.crate} ×${e.count}`);

describe('audit recorder: index reads', () => {
  it('counts reads per token, crate and hour, dated to the start of the hour', async () => {
    let now = Date.parse('2026-12-06T09:59:58.500Z');
    const { log, audit } = recorderAt(() => now);
    audit.indexRead(from(1, 'alice'), 'serde');
    audit.indexRead(from(1, 'alice'), 'serde');
    audit.indexRead(from(2, 'bob'), 'serde');
    audit.indexRead(from(1, 'alice'), 'tokio');
    now = Date.parse('2026-12-06T10:00:00.000Z');
    audit.indexRead(from(1, 'alice'), 'serde');
    audit.indexRead(from(1, 'alice'), 'serde');
    audit.indexRead(from(1, 'alice'), 'serde');
    assert.equal(audit.pendingEvents, 4);
    await audit.flush();
    assert.deepEqual(summary(log.written), [
      '2026-12-06T09:00:00.000Z alice #1 serde ×2',
      '2026-12-06T09:00:00.000Z bob #2 serde ×1',
      '2026-12-06T09:00:00.000Z alice #1 tokio ×1',
      '2026-12-06T10:00:00.000Z alice #1 serde ×3',
    ]);
    assert.ok(log.written.every((e) => e.action === 'index-read' && e.clientIp === '192.0.2.7' && e.userAgent === 'cargo/1.95.0'));
  });

  it('starts a new count after each flush, and does not change what a flush wrote', async () => {
    const now = Date.parse('2026-12-06T10:30:00.000Z');
    const { log, audit } = recorderAt(() => now);
    audit.indexRead(from(1, 'alice'), 'serde');
    await audit.flush();
    audit.indexRead(from(1, 'alice'), 'serde');
    audit.indexRead(from(1, 'alice'), 'serde');
    await audit.flush();
    assert.equal(audit.pendingEvents, 0);
    assert.deepEqual(summary(log.written), ['2026-12-06T10:00:00.000Z alice #1 serde ×1', '2026-12-06T10:00:00.000Z alice #1 serde ×2']);
  });
});
