// A crate page's download chart: one bar per UTC day over the last `days` days, as an inline SVG
// string. Pure (no clock: `today` is given). Pages forbid inline styles and scripts by their
// Content-Security-Policy, so the SVG uses only presentation attributes and classes (`fill` is
// `currentColor`; a page's stylesheet may restyle `.download-chart .bar` etc.). Accessible as one
// image: its <title> and <desc> give the period and the total.

import { escapeHtml } from './html.js';

export interface DownloadChartOptions {
  /** How many days the chart covers, ending with `today` (e.g. 90). */
  days: number;
  /** 'YYYY-MM-DD' (UTC): the last day shown. */
  today: string;
  /** Prefix of the ids of <title> and <desc> (letters, digits, `-`, `_`); unique per page when it shows several charts. */
  idPrefix?: string;
  /** The accessible name (escaped here), e.g. `Downloads of serde per day`. */
  title?: string;
}

const DAY_MS = 86_400_000;
const WIDTH = 640;
const HEIGHT = 160;
const TOP = 22; // room for the max label
const BOTTOM = 20; // room for the date labels
const PLOT = HEIGHT - TOP - BOTTOM;
const MAX_DAYS = 3_660;

const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
const round = (n: number) => Math.round(n * 100) / 100;
const plural = (n: number, one: string, many: string) => `${grouped(n)} ${n === 1 ? one : many}`;

function dayNumber(day: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return undefined;
  const ms = Date.parse(`${day}T00:00:00Z`);
  // Date.parse accepts 2024-02-30; the round trip does not.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day) return undefined;
  return ms / DAY_MS;
}

const dayString = (n: number) => new Date(n * DAY_MS).toISOString().slice(0, 10);

/** Counts per day of the window, oldest first; missing days are 0, days outside are ignored. */
export function zeroFilledDays(
  daily: readonly { day: string; count: number }[],
  days: number,
  today: string,
): { day: string; count: number }[] {
  const last = dayNumber(today);
  if (last === undefined) throw new RangeError(`today must be a date as YYYY-MM-DD, not ${JSON.stringify(today)}`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
    throw new RangeError(`days must be an integer from 1 to ${MAX_DAYS}, not ${days}`);
  const first = last - days + 1;
  const counts = new Array<number>(days).fill(0);
  for (const { day, count } of daily) {
    const n = dayNumber(day);
    if (n === undefined || n < first || n > last || !Number.isFinite(count) || count <= 0) continue;
    counts[n - first] += count;
  }
  return counts.map((count, i) => ({ day: dayString(first + i), count }));
}

export function downloadChartSvg(daily: readonly { day: string; count: number }[], options: DownloadChartOptions): string {
  const filled = zeroFilledDays(daily, options.days, options.today);
  const id = options.idPrefix ?? 'download-chart';
  // aria-labelledby is a space-separated list of ids: an id must be one plain token.
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new RangeError(`idPrefix must be letters, digits, - and _, not ${JSON.stringify(id)}`);
  const total = filled.reduce((sum, d) => sum + d.count, 0);
  const max = filled.reduce((m, d) => Math.max(m, d.count), 0);
  const from = filled[0]!.day;
  const to = filled[filled.length - 1]!.day;

  const slot = WIDTH / filled.length;
  const barWidth = round(Math.max(slot * 0.8, 0.5));
  const bars = filled.map((d, i) => {
    // A day with any download shows at least one unit high, so that it never looks like none.
    const height = max === 0 || d.count === 0 ? 0 : round(Math.max((d.count / max) * PLOT, 1));
    const x = round(i * slot + (slot - barWidth) / 2);
    const y = round(TOP + PLOT - height);
    const tip = escapeHtml(`${d.day}: ${plural(d.count, 'download', 'downloads')}`);
    return `<rect class="bar" x="${x}" y="${y}" width="${barWidth}" height="${height}"><title>${tip}</title></rect>`;
  });

  const period = `the ${plural(filled.length, 'day', 'days')} from ${from} to ${to}`;
  const title = options.title ?? 'Downloads per day';
  const desc =
    total === 0
      ? `No downloads in ${period}.`
      : `${plural(total, 'download', 'downloads')} in ${period}; at most ${grouped(max)} on one day.`;
  const text = (cls: string, x: number, y: number, anchor: string, content: string) =>
    `<text class="${cls}" x="${x}" y="${y}" text-anchor="${anchor}" font-size="11" fill="currentColor">${escapeHtml(content)}</text>`;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="download-chart" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}"` +
      ` role="img" aria-labelledby="${id}-title ${id}-desc">`,
    `<title id="${id}-title">${escapeHtml(title)}</title>`,
    `<desc id="${id}-desc">${escapeHtml(desc)}</desc>`,
    text('max-label', 0, 12, 'start', `max ${grouped(max)}`),
    `<line class="axis" x1="0" y1="${TOP + PLOT}" x2="${WIDTH}" y2="${TOP + PLOT}" stroke="currentColor" stroke-width="1" stroke-opacity="0.4"/>`,
    `<g class="bars" fill="currentColor">${bars.join('')}</g>`,
    text('date-label first', 0, HEIGHT - 4, 'start', from),
    text('date-label last', WIDTH, HEIGHT - 4, 'end', to),
    '</svg>',
  ].join('\n');
}
