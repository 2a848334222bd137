// The AuditLog contract: filters, newest first, paging and totals, and a crate's events found through
// the crate index, not by a walk through the whole log. Run against SQLite and PostgreSQL by the
// audit-log-*.test.ts files.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AuditAction, AuditEvent, AuditLog, AuditQuery } from '../../src/ports/audit-log.js';
import { freshPerTest } from './fresh-per-test.js';

export interface OpenedAuditLog {
  log: AuditLog;
  /** The query plan of each statement `log` ran since the last call, one text per statement. */
  plans(): Promise<string[]>;
  close(): Promise<void>;
}

export interface AuditLogDatabases {
  /** A database with every migration applied. */
  open(): Promise<OpenedAuditLog>;
  /** What a plan says when it walks a table's rows (or an index over all of them) to find some. */
  fullScan: RegExp;
  /** What a plan says when it finds the events before a time through the time index. */
  beforeThroughTimeIndex: RegExp;
}

const event = (at: string, action: AuditAction, crate: string | null, fields: Partial<AuditEvent> = {}): AuditEvent => ({
  at,
  action,
  userLogin: 'alice',
  tokenId: 1,
  crate,
  version: null,
  clientIp: '127.0.0.1',
  userAgent: 'cargo/1.95.0',
  detail: null,
  count: 1,
  ...fields,
});
const hour = (h: number) => new Date(Date.UTC(2026, 0, 1, h)).toISOString();

/** Index reads of three crates in each of 30 hours, and a publish and a yank of serde among them. */
function history(): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let h = 0; h < 30; h++) {
    for (const crate of ['serde', 'tokio', 'serde-json']) events.push(event(hour(h), 'index-read', crate, { count: h + 1 }));
    if (h === 10) events.push(event(`${hour(10).slice(0, 13)}:25:00.000Z`, 'publish', 'serde', { version: '1.0.0' }));
    if (h === 20) events.push(event(`${hour(20).slice(0, 13)}:40:00.000Z`, 'yank', 'serde', { version: '1.0.0', userLogin: 'bob' }));
  }
  events.push(event(hour(5), 'login', null));
  return events;
}

const summary = (events: readonly AuditEvent[]) => events.map((e) => `${e.at} ${e.action} ${e.crate ?? '-'} ${e.count}`);
const query = (q: Partial<AuditQuery>): AuditQuery => ({ limit: 100, offset: 0, ...q });

export function auditLogContract(name: string, databases: AuditLogDatabases): void {
  describe(`AuditLog contract: ${name}`, () => {
    const opened = freshPerTest(databases.open);

    it("lists one crate's index reads and other events together, newest first, with their total", async () => {
      const { log } = await opened.fresh();
      await log.append(history());
      const all = await log.query(query({ crate: 'serde' }));
      assert.equal(all.total, 32);
      assert.deepEqual(summary(all.events.slice(0, 4)), [
        `${hour(29)} index-read serde 30`,
        `${hour(28)} index-read serde 29`,
        `${hour(27)} index-read serde 28`,
        `${hour(26)} index-read serde 27`,
      ]);
      assert.deepEqual(summary(all.events.slice(9, 12)), [
        `${hour(20).slice(0, 13)}:40:00.000Z yank serde 1`,
        `${hour(20)} index-read serde 21`,
        `${hour(19)} index-read serde 20`,
      ]);
      assert.ok(all.events.every((e) => e.crate === 'serde'));
      const page = await log.query(query({ crate: 'serde', limit: 3, offset: 9 }));
      assert.equal(page.total, 32);
      assert.deepEqual(summary(page.events), summary(all.events.slice(9, 12)));
    });

    it("filters a crate's events by action, user and time, and counts only those", async () => {
      const { log } = await opened.fresh();
      await log.append(history());
      const reads = await log.query(query({ crate: 'serde', action: 'index-read', since: hour(3), until: hour(6) }));
      assert.equal(reads.total, 3);
      assert.deepEqual(summary(reads.events), [
        `${hour(5)} index-read serde 6`,
        `${hour(4)} index-read serde 5`,
        `${hour(3)} index-read serde 4`,
      ]);
      const publishes = await log.query(query({ crate: 'serde', action: 'publish' }));
      assert.deepEqual(summary(publishes.events), [`${hour(10).slice(0, 13)}:25:00.000Z publish serde 1`]);
      assert.equal(publishes.total, 1);
      const bobs = await log.query(query({ crate: 'serde', user: 'bob' }));
      assert.deepEqual(summary(bobs.events), [`${hour(20).slice(0, 13)}:40:00.000Z yank serde 1`]);
      const inTheHourOfThePublish = await log.query(query({ crate: 'serde', since: hour(10), until: hour(11) }));
      assert.deepEqual(summary(inTheHourOfThePublish.events), [
        `${hour(10).slice(0, 13)}:25:00.000Z publish serde 1`,
        `${hour(10)} index-read serde 11`,
      ]);
      const none = await log.query(query({ crate: 'serde', since: hour(40) }));
      assert.deepEqual(none, { total: 0, events: [] });
      assert.deepEqual(await log.query(query({ crate: 'nothing' })), { total: 0, events: [] });
    });

    it('lists the whole log and filters it without a crate as before', async () => {
      const { log } = await opened.fresh();
      await log.append(history());
      const all = await log.query(query({ limit: 2 }));
      assert.equal(all.total, 93);
      assert.deepEqual(summary(all.events), [`${hour(29)} index-read serde-json 30`, `${hour(29)} index-read tokio 30`]);
      const logins = await log.query(query({ action: 'login' }));
      assert.deepEqual(summary(logins.events), [`${hour(5)} login - 1`]);
    });

    it('keeps every field of every event as given, over more events than one statement takes', async () => {
      const { log } = await opened.fresh();
      // Text that an array or a list of values must carry unchanged, and nulls in every column that takes them.
      const awkward = ['a"b', 'back\\slash', 'com,ma', '{braces}', 'NULL', '', ' spaced ', "it's", 'ünïcødé ✓', 'new\nline'];
      const events = Array.from({ length: 2345 }, (_, i): AuditEvent => {
        const text = (offset: number) => (i % 11 === offset ? null : `${awkward[(i + offset) % awkward.length]}-${i}`);
        return {
          at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
          action: i % 5 === 0 ? 'download' : 'index-read',
          userLogin: text(1),
          tokenId: i % 11 === 2 ? null : i * 7,
          crate: text(3),
          version: text(4),
          clientIp: text(5),
          userAgent: text(6),
          detail: text(7),
          count: i === 0 ? 2_000_000_000 : i + 1,
        };
      });
      await log.append(events);
      const stored = await log.query(query({ limit: 3000 }));
      assert.equal(stored.total, events.length);
      assert.deepEqual(
        stored.events.map(({ id: _id, ...event }) => event),
        [...events].reverse(),
      );
    });

    it("finds a crate's events through the crate index, not by walking the log", async () => {
      const { log, plans } = await opened.fresh();
      await log.append(history());
      await plans();
      for (const filter of [{}, { action: 'index-read' as const }, { since: hour(3), until: hour(9) }]) {
        await log.query(query({ crate: 'serde', ...filter }));
        const statements = await plans();
        assert.equal(statements.length, 2, statements.join('\n\n'));
        for (const plan of statements) {
          assert.doesNotMatch(plan, databases.fullScan, plan);
          assert.match(plan, /audit_events_crate_at/, plan);
        }
      }
    });

    it('prunes the events before a time, found through the time index, not by walking the log', async () => {
      const { log, plans } = await opened.fresh();
      await log.append(history());
      await plans();
      assert.equal(await log.prune(hour(10)), 31);
      const statements = await plans();
      assert.equal(statements.length, 1, statements.join('\n\n'));
      assert.match(statements[0]!, databases.beforeThroughTimeIndex, statements[0]);
      const left = await log.query(query({ limit: 1000 }));
      assert.equal(left.total, 62);
      assert.ok(left.events.every((e) => e.at >= hour(10)));
      assert.equal(await log.prune(hour(10)), 0);
    });
  });
}
