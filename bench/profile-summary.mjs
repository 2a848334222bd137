// Summarises a V8 .cpuprofile (from `node bench/index-throughput.mjs --profile`): where the server's
// CPU time went, by self time, grouped by function and by origin (our code, each npm package, Node's
// own JS, native/GC). Idle time is left out of the percentages: they are shares of busy time.
//
// Usage: node bench/profile-summary.mjs bench/results/CPU.<...>.cpuprofile [--top 30]

import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top N]');
  process.exit(2);
}
const topIndex = process.argv.indexOf('--top');
const TOP = topIndex === -1 ? 30 : Number(process.argv[topIndex + 1]);

const profile = JSON.parse(readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time of each node: sum of the sampling intervals attributed to it.
const self = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + dt);
}

function origin(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  const dist = url.indexOf('/dist/');
  if (dist !== -1) return 'cratekeeper:' + url.slice(dist + 6).replace(/\.js$/, '');
  return url;
}

const byFunction = new Map();
const byOrigin = new Map();
let busy = 0;
let idle = 0;
for (const [id, us] of self) {
  const { callFrame } = nodes.get(id);
  const name = callFrame.functionName || '(anonymous)';
  if (name === '(idle)') {
    idle += us;
    continue;
  }
  busy += us;
  const o = origin(callFrame.url, name);
  const key = `${name}  [${o}:${callFrame.lineNumber + 1}]`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const group = o.startsWith('node:') ? `node:${o.slice(5).split(':')[0]}` : o;
  byOrigin.set(group, (byOrigin.get(group) ?? 0) + us);
}

// Inclusive time of our own and the framework's entry points, found by walking each sample's stack.
const inclusive = new Map();
const WATCH = [/authenticationHook/, /^authenticate$/, /hashToken/, /isWellFormedToken/, /^get$/, /etagMatches/, /crc32/, /toBase62/];
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  const seen = new Set();
  for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
    const { callFrame } = nodes.get(id);
    if (!callFrame.url.includes('/dist/')) continue;
    const name = callFrame.functionName;
    if (!WATCH.some((re) => re.test(name))) continue;
    const key = `${name} [${origin(callFrame.url, name)}]`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
  }
}

const pct = (us) => ((100 * us) / busy).toFixed(1).padStart(5) + ' %';
const total = busy + idle;
console.log(`${file}\nsampled ${(total / 1e6).toFixed(1)} s: busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s`);
console.log('\nself time by origin (share of busy time)');
for (const [k, us] of [...byOrigin].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`  ${pct(us)}  ${k}`);
console.log(`\nself time by function, top ${TOP}`);
for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, TOP)) console.log(`  ${pct(us)}  ${k}`);
console.log('\ninclusive time of selected cratekeeper functions');
for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(us)}  ${k}`);
