// The download chart renderer: zero-filled days, bar scaling, escaping, empty data, and an SVG
// that a page with a strict Content-Security-Policy can inline (no style, no script).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { downloadChartSvg, zeroFilledDays } from '../../src/http/pages/download-chart.js';

const rects = (svg: string) =>
  [...svg.matchAll(/<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"><title>([^<]*)<\/title><\/rect>/g)].map(
    (m) => ({
      x: Number(m[1]),
      y: Number(m[2]),
      height: Number(m[4]),
      tip: m[5]!,
    }),
  );

describe('download chart', () => {
  it('fills missing days with zero, ends on today, and ignores days outside the window', () => {
    const days = zeroFilledDays(
      [
        { day: '2024-02-28', count: 3 },
        { day: '2024-03-01', count: 5 },
        { day: '2024-03-01', count: 1 },
        { day: '2024-02-26', count: 100 }, // before the window
        { day: '2024-03-02', count: 100 }, // after today
        { day: 'not a day', count: 100 },
        { day: '2024-02-30', count: 100 },
      ],
      4,
      '2024-03-01',
    );
    assert.deepEqual(days, [
      { day: '2024-02-27', count: 0 },
      { day: '2024-02-28', count: 3 },
      { day: '2024-02-29', count: 0 },
      { day: '2024-03-01', count: 6 },
    ]);
  });

  it('draws one bar per day, the highest day at full height and the others in proportion', () => {
    const svg = downloadChartSvg(
      [
        { day: '2024-05-01', count: 40 },
        { day: '2024-05-03', count: 10 },
        { day: '2024-05-04', count: 1 },
      ],
      { days: 90, today: '2024-05-04' },
    );
    const bars = rects(svg);
    assert.equal(bars.length, 90);
    const [may1, may2, may3, may4] = bars.slice(-4);
    const full = may1!.height;
    assert.ok(full > 50);
    assert.equal(may2!.height, 0);
    assert.equal(may3!.height, full / 4);
    // One download in forty is still visible.
    assert.ok(may4!.height >= 1);
    // Bars stand on one baseline, in day order, left to right.
    assert.equal(may1!.y + may1!.height, may3!.y + may3!.height);
    assert.ok(bars.every((b, i) => i === 0 || b.x > bars[i - 1]!.x));
    assert.equal(may1!.tip, '2024-05-01: 40 downloads');
    assert.equal(may4!.tip, '2024-05-04: 1 download');
    assert.match(svg, />max 40<\/text>/);
    assert.match(svg, />2024-02-05<\/text>/);
    assert.match(svg, />2024-05-04<\/text>/);
  });

  it('is one accessible image whose title and description give the total and the period', () => {
    const svg = downloadChartSvg(
      [
        { day: '2024-05-01', count: 1234 },
        { day: '2024-04-01', count: 1 },
      ],
      { days: 90, today: '2024-05-04' },
    );
    assert.match(
      svg,
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" [^>]*role="img" aria-labelledby="download-chart-title download-chart-desc">/,
    );
    assert.match(svg, /<title id="download-chart-title">Downloads per day<\/title>/);
    assert.match(
      svg,
      /<desc id="download-chart-desc">1,235 downloads in the 90 days from 2024-02-05 to 2024-05-04; at most 1,234 on one day\.<\/desc>/,
    );
    assert.match(svg, />max 1,234</);
  });

  it('uses no style attribute, style element or script (the pages forbid them)', () => {
    const svg = downloadChartSvg([{ day: '2024-05-01', count: 3 }], { days: 30, today: '2024-05-04', idPrefix: 'dl-serde' });
    assert.doesNotMatch(svg, /style|script|\bon\w+=/i);
    assert.match(svg, /aria-labelledby="dl-serde-title dl-serde-desc"/);
  });

  it('draws an empty chart for no downloads at all', () => {
    const svg = downloadChartSvg([], { days: 7, today: '2024-01-03' });
    const bars = rects(svg);
    assert.equal(bars.length, 7);
    assert.ok(bars.every((b) => b.height === 0));
    assert.match(svg, /<desc id="download-chart-desc">No downloads in the 7 days from 2023-12-28 to 2024-01-03\.<\/desc>/);
    assert.match(svg, />max 0</);
    assert.doesNotMatch(svg, /NaN|Infinity|undefined/);
  });

  it('escapes the title, and refuses ids and dates it cannot place safely', () => {
    const svg = downloadChartSvg([{ day: '<script>', count: 5 }], {
      days: 3,
      today: '2024-05-04',
      title: 'Downloads of <b>"x" & \'y\'</b>',
    });
    assert.match(svg, /<title id="download-chart-title">Downloads of &#60;b&#62;&#34;x&#34; &#38; &#39;y&#39;&#60;\/b&#62;<\/title>/);
    assert.doesNotMatch(svg, /<script|<b>/);
    assert.throws(() => downloadChartSvg([], { days: 3, today: '2024-05-04', idPrefix: 'a" onload="x' }), RangeError);
    assert.throws(() => downloadChartSvg([], { days: 3, today: '2024-05-04', idPrefix: 'two ids' }), RangeError);
    assert.throws(() => downloadChartSvg([], { days: 3, today: '"><script>' }), RangeError);
    assert.throws(() => downloadChartSvg([], { days: 0, today: '2024-05-04' }), RangeError);
    assert.throws(() => downloadChartSvg([], { days: 2.5, today: '2024-05-04' }), RangeError);
  });

  it('ignores counts that are not positive numbers', () => {
    const svg = downloadChartSvg(
      [
        { day: '2024-05-03', count: -5 },
        { day: '2024-05-04', count: Number.NaN },
        { day: '2024-05-02', count: 2 },
      ],
      { days: 3, today: '2024-05-04' },
    );
    assert.match(svg, /2 downloads in the 3 days/);
  });
});
