// The shared progress bar: in place on a terminal, and without one a line every tenth of the way and
// at least every `everyMs` (so a slow tenth still shows the task is alive), with the count.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProgressBar, progressBars } from '../../src/lib/progress-bar.js';

function output(isTTY: boolean) {
  const written: string[] = [];
  return { out: { isTTY, write: (text: string) => written.push(text) }, written };
}

describe('progress bar', () => {
  it('without a terminal, writes a line at the start, each tenth and at the end, with the count', () => {
    const { out, written } = output(false);
    const bar = new ProgressBar(20, 'copying', { out, now: () => 0 });
    for (let i = 1; i <= 20; i++) bar.tick(`item ${i}`);
    assert.deepEqual(written, [
      'copying: 1/20 (5%) item 1\n',
      ...[2, 4, 6, 8, 10, 12, 14, 16, 18].map((n) => `copying: ${n}/20 (${n * 5}%) item ${n}\n`),
      'copying: 20/20 (100%) item 20\n',
    ]);
  });

  it('without a terminal, writes a line at least every everyMs even within one tenth', () => {
    const { out, written } = output(false);
    let now = 0;
    const bar = new ProgressBar(1000, 'rows', { out, now: () => now, everyMs: 10_000 });
    bar.update(100);
    written.length = 0;
    bar.update(110);
    now = 9_999;
    bar.update(120);
    assert.deepEqual(written, []);
    now = 10_000;
    bar.update(130);
    assert.deepEqual(written, ['rows: 130/1000 (13%)\n']);
  });

  it('on a terminal, redraws one line in place and ends it when done', () => {
    const { out, written } = output(true);
    let now = 0;
    const bar = new ProgressBar(2, 'syncing', { out, now: () => now });
    now = 1_000;
    bar.tick('a');
    now = 2_000;
    bar.tick('b');
    assert.equal(written.length, 2);
    assert.ok(written.every((w) => w.startsWith('\r')));
    assert.match(written[0]!, /^\rsyncing \[#{15}-{15}\] 1\/2 a/);
    assert.match(written[1]!, /^\rsyncing \[#{30}\] 2\/2 b\s*\n$/);
  });

  it('progressBars gives each phase its own bar', () => {
    const { out, written } = output(false);
    const onProgress = progressBars({ out, now: () => 0 });
    onProgress('applying migrations', 1, 2, 'migration 7');
    onProgress('rebuilding download totals', 3, 3);
    onProgress('applying migrations', 2, 2, 'migration 8');
    assert.deepEqual(written, [
      'applying migrations: 1/2 (50%) migration 7\n',
      'rebuilding download totals: 3/3 (100%)\n',
      'applying migrations: 2/2 (100%) migration 8\n',
    ]);
  });
});
