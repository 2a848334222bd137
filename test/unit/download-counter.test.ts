// The download counter: counts gather in memory and reach the store in batches (on a timer and on
// close); a failed batch is reported, kept and written once by a later flush.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { DownloadCounts, VersionDayCount } from '../../src/ports/download-counts.js';
import { DownloadCounter } from '../../src/services/download-counter.js';

/** An in-memory store that records each batch, and fails while `failing` is set. */
class FakeCounts implements DownloadCounts {
  batches: VersionDayCount[][] = [];
  totals = new Map<string, number>();
  failing = false;
  writing = 0;
  maxWriting = 0;
  gate: Promise<void> | undefined;

  async add(counts: readonly VersionDayCount[]): Promise<void> {
    this.writing++;
    this.maxWriting = Math.max(this.maxWriting, this.writing);
    try {
      await this.gate;
      if (this.failing) throw new Error('database unavailable');
      this.batches.push(counts.map((c) => ({ ...c })));
      for (const c of counts)
        this.totals.set(`${c.crate} ${c.version} ${c.day}`, (this.totals.get(`${c.crate} ${c.version} ${c.day}`) ?? 0) + c.count);
    } finally {
      this.writing--;
    }
  }
  async daily(): Promise<{ day: string; count: number }[]> {
    return [];
  }
  async perVersion(): Promise<{ version: string; count: number }[]> {
    return [];
  }
  total(key: string): number | undefined {
    return this.totals.get(key);
  }
}

const NOON = Date.UTC(2024, 4, 1, 12);
const noErrors = (error: unknown) => assert.fail(`unexpected background error: ${String(error)}`);
const sortRows = (rows: VersionDayCount[]) => [...rows].sort((a, b) => `${a.crate} ${a.version}`.localeCompare(`${b.crate} ${b.version}`));

describe('download counter', () => {
  it('writes nothing per download, then one batch with a row per crate, version and day', async () => {
    const store = new FakeCounts();
    const counter = new DownloadCounter(store, noErrors, { flushAfterMs: 60_000, now: () => NOON });
    counter.count('serde', '1.0.0');
    counter.count('serde', '1.0.0');
    counter.count('serde', '1.0.1');
    counter.count('rand', '0.8.5');
    assert.equal(store.batches.length, 0);
    assert.equal(counter.pendingDownloads, 4);
    await counter.flush();
    assert.equal(store.batches.length, 1);
    assert.deepEqual(sortRows(store.batches[0]!), [
      { crate: 'rand', version: '0.8.5', day: '2024-05-01', count: 1 },
      { crate: 'serde', version: '1.0.0', day: '2024-05-01', count: 2 },
      { crate: 'serde', version: '1.0.1', day: '2024-05-01', count: 1 },
    ]);
    assert.equal(counter.pendingDownloads, 0);
    await counter.flush();
    assert.equal(store.batches.length, 1, 'an empty flush wrote a batch');
    await counter.stop();
  });

  it('counts each download on the UTC day it happened, across midnight', async () => {
    const store = new FakeCounts();
    let now = Date.UTC(2024, 4, 1, 23, 59, 59, 999);
    const counter = new DownloadCounter(store, noErrors, { flushAfterMs: 60_000, now: () => now });
    counter.count('serde', '1.0.0');
    now += 1;
    counter.count('serde', '1.0.0');
    counter.count('serde', '1.0.0');
    now -= 2 * 86_400_000; // a clock set back
    counter.count('serde', '1.0.0');
    await counter.stop();
    assert.equal(store.total('serde 1.0.0 2024-05-01'), 1);
    assert.equal(store.total('serde 1.0.0 2024-05-02'), 2);
    assert.equal(store.total('serde 1.0.0 2024-04-30'), 1);
  });

  it('flushes on its own a while after the first uncounted download, and again after the next', async () => {
    const store = new FakeCounts();
    const counter = new DownloadCounter(store, noErrors, { flushAfterMs: 20 });
    counter.count('serde', '1.0.0');
    counter.count('serde', '1.0.0');
    await sleep(80);
    assert.equal(store.batches.length, 1);
    assert.equal(store.batches[0]![0]!.count, 2);
    counter.count('serde', '1.0.0');
    await sleep(80);
    assert.equal(store.batches.length, 2);
    await sleep(60);
    assert.equal(store.batches.length, 2, 'an idle counter kept writing');
    await counter.stop();
  });

  it('writes what is left on close, and schedules nothing after', async () => {
    const store = new FakeCounts();
    const counter = new DownloadCounter(store, noErrors, { flushAfterMs: 10, now: () => NOON });
    counter.count('serde', '1.0.0');
    await counter.stop();
    assert.equal(store.total('serde 1.0.0 2024-05-01'), 1);
    counter.count('serde', '1.0.0');
    await sleep(40);
    assert.equal(store.batches.length, 1, 'a stopped counter wrote on its own');
  });

  it('keeps a failed batch, reports the failure, and writes every count exactly once when the store is back', async () => {
    const store = new FakeCounts();
    const errors: unknown[] = [];
    const counter = new DownloadCounter(store, (e) => errors.push(e), { flushAfterMs: 20, now: () => NOON });
    store.failing = true;
    counter.count('serde', '1.0.0');
    counter.count('serde', '1.0.0');
    await assert.rejects(counter.flush(), /database unavailable/);
    assert.equal(counter.pendingDownloads, 2);
    // The timer's retries fail too: reported, never thrown.
    await sleep(80);
    assert.ok(errors.length >= 1);
    assert.match(String(errors[0]), /database unavailable/);
    assert.equal(counter.pendingDownloads, 2);

    // Downloads counted while a failing write is in flight join the kept ones.
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    const failing = counter.flush();
    await sleep(5); // the kept batch is being written
    assert.equal(store.writing, 1);
    counter.count('serde', '1.0.0');
    counter.count('serde', '2.0.0');
    open();
    await assert.rejects(failing);
    store.gate = undefined;
    store.failing = false;
    await counter.flush();
    assert.equal(store.total('serde 1.0.0 2024-05-01'), 3);
    assert.equal(store.total('serde 2.0.0 2024-05-01'), 1);
    assert.equal(counter.pendingDownloads, 0);
    await counter.stop();
    assert.equal(store.total('serde 1.0.0 2024-05-01'), 3, 'counted twice');
  });

  it('reports a failure on close instead of throwing', async () => {
    const store = new FakeCounts();
    const errors: unknown[] = [];
    const counter = new DownloadCounter(store, (e) => errors.push(e), { flushAfterMs: 60_000 });
    store.failing = true;
    counter.count('serde', '1.0.0');
    await counter.stop();
    assert.equal(errors.length, 1);
  });

  it('never writes two batches at once', async () => {
    const store = new FakeCounts();
    const counter = new DownloadCounter(store, noErrors, { flushAfterMs: 60_000, now: () => NOON });
    let open!: () => void;
    store.gate = new Promise((resolve) => (open = resolve));
    counter.count('serde', '1.0.0');
    const first = counter.flush();
    await sleep(5); // the first batch is being written
    assert.equal(store.writing, 1);
    counter.count('serde', '1.0.0');
    const second = counter.flush();
    open();
    await Promise.all([first, second]);
    assert.equal(store.maxWriting, 1);
    assert.equal(store.batches.length, 2);
    assert.equal(store.total('serde 1.0.0 2024-05-01'), 2);
    await counter.stop();
  });
});
