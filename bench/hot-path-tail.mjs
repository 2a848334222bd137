// The tail of the hot path (issue 13): one crate's index file (or its download) under 64 wrk
// connections for long enough to cross many background flushes (audit events every 2 s, token
// last-use every 5 s, download counts 5 s after the first uncounted one, rate-limit refreshes and
// change-feed polls every 250 ms, SQLite's automatic WAL checkpoints), and what held the event loop
// when responses were slow.
//
// What it does:
//   1. Starts `node DIST/dist/cli/main.js serve` (one process, SQLite in a temporary data folder on
//      the disk, as a real registry) with bench/loop-trace.mjs loaded (`--import` through
//      NODE_OPTIONS): it records every SQLite statement of 1 ms or more, every GC of 1 ms or more and
//      every stall of the loop of 20 ms or more, with timestamps, and the loop's delay histogram.
//   2. Publishes two small crates and versions of `bench-hot-crate` until its index file is ~6.3 KiB.
//   3. wrk (2 threads, --connections, default 64) for --warmup seconds, then --duration seconds
//      measured (default 40: twenty audit flushes, eight last-use flushes) on --path: `index` (200
//      with Authorization), `download` (the crate file: each is an audit event and a count) or
//      `both` (two wrk at once, half the connections each).
//   4. Stops the server with SIGTERM, reads the trace, and prints p50/p99/p99.9/max of the
//      responses (wrk), the loop delay, the SQLite statements that ran during the measured window
//      grouped by SQL (count, total, max), GC pauses, and the longest stalls, each with the
//      statements and GCs that overlap it. JSON goes to bench/results/hot-path-tail-<time>.json.
//
// Usage: npm run build && node bench/hot-path-tail.mjs [--duration 40] [--warmup 3] [--connections 64]
//          [--path index|download|both] [--db sqlite|postgres] [--dist DIR] [--profile]
//   --db postgres  runs the server on a fresh PostgreSQL 15 cluster (dist/test/support/postgres-server.js);
//               its statements run in PostgreSQL, so the trace shows only stalls and GC.
//   --dist DIR  runs the build in DIR (a `git archive` of an older commit, built) for before/after.
//   --profile   also writes a .cpuprofile of the server to bench/results/.
// Figures are measured here, never asserted. Needs wrk (installed with apt-get when missing).

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ROOT,
  aptInstall,
  crateFile,
  fmt,
  indexPath,
  log,
  loopbackClient,
  machine,
  option,
  profilesSince,
  publishMetadata,
  resultFile,
  runMain,
  setLogTag,
  startCratekeeper,
  stopChild,
  table,
  tempDir,
  track,
  which,
} from './lib.mjs';

const DURATION_S = Math.max(1, Math.min(option('duration', 40), 600));
const WARMUP_S = Math.max(0, Math.min(option('warmup', 3), 60));
const CONNECTIONS = Math.max(2, Math.min(option('connections', 64), 1024));
const PATH = option('path', 'index');
const DIST_ROOT = path.resolve(option('dist', ROOT));
const PROFILE = option('profile', false);
const DB = option('db', 'sqlite');
if (!['sqlite', 'postgres'].includes(DB)) throw new Error('--db is sqlite or postgres');
if (!['index', 'download', 'both'].includes(PATH)) throw new Error('--path is index, download or both');
const TARGET_INDEX_BYTES = 6300;
const TARGET_CRATE = 'bench-hot-crate';
const OTHER_CRATES = ['bench-dep-alpha', 'bench-dep-beta'];
const TRACE_MODULE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'loop-trace.mjs');

const { encodePublishBody } = await import(path.join(DIST_ROOT, 'dist/src/domain/publish-body.js'));

setLogTag('hot-path-tail');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const { request } = loopbackClient({ maxSockets: 1 });

// wrk's report, with the 99.9th percentile that WRK_LUA leaves out.
const LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`;

function wrk(url, headers, seconds, connections) {
  const lua = path.join(tempDir('ck-tail-lua-'), 'report.lua');
  writeFileSync(lua, LUA);
  const args = ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '5s', '-s', lua];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const p = track(spawn(which('wrk'), args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'wrk');
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${err}${out}`));
      const r = JSON.parse(line.slice('WRK_RESULT '.length));
      r.rps = r.requests / (r.duration_us / 1e6);
      resolve(r);
    });
  });
}

async function publish(ck, name, vers, deps = []) {
  const meta = publishMetadata(
    name,
    vers,
    deps.map((d) => [d, '^1.0']),
    { features: { default: ['std'], std: [] }, authors: ['Bench <bench@example.invalid>'], description: `benchmark crate ${name}` },
  );
  const body = encodePublishBody(meta, await crateFile(name, vers));
  const res = await request(`${ck.url}/api/v1/crates/new`, {
    method: 'PUT',
    headers: { authorization: ck.token, 'content-length': body.length },
    body,
  });
  if (res.status !== 200) throw new Error(`publish failed: ${res.status} ${res.body.toString('utf8').slice(0, 500)}`);
}

async function prepare(ck) {
  for (const name of OTHER_CRATES) await publish(ck, name, '1.0.0');
  for (let minor = 0; minor < 200; minor++) {
    await publish(ck, TARGET_CRATE, `0.${minor}.0`, OTHER_CRATES);
    const res = await request(`${ck.url}/index/${indexPath(TARGET_CRATE)}`, { headers: { authorization: ck.token } });
    if (res.status !== 200) throw new Error(`index: ${res.status}`);
    if (res.body.length >= TARGET_INDEX_BYTES) return { bytes: res.body.length, lastVersion: `0.${minor}.0` };
  }
  throw new Error('the index file never reached its size');
}

/** Events overlapping [from, to] (epoch ms). */
const overlapping = (events, from, to) => events.filter((e) => e.at < to && e.at + e.ms > from);

function summarise(trace, from, to) {
  const inWindow = trace.events.filter((e) => e.at >= from && e.at <= to);
  const sql = new Map();
  for (const e of inWindow.filter((x) => x.kind === 'sql')) {
    const key = e.sql.replace(/\s+/g, ' ').slice(0, 60);
    const s = sql.get(key) ?? { sql: key, count: 0, totalMs: 0, maxMs: 0 };
    s.count++;
    s.totalMs += e.ms;
    s.maxMs = Math.max(s.maxMs, e.ms);
    sql.set(key, s);
  }
  const gcs = inWindow.filter((x) => x.kind === 'gc');
  const stalls = inWindow.filter((x) => x.kind === 'stall').sort((a, b) => b.ms - a.ms);
  // What overlapped each stall, grouped: "insert into audit_events x35 (186 ms)".
  const explained = stalls.map((s) => {
    const causes = new Map();
    for (const e of overlapping(
      trace.events.filter((x) => x.kind === 'sql' || x.kind === 'gc'),
      s.at - 5,
      s.at + s.ms,
    )) {
      const key = e.kind === 'gc' ? `gc(${e.gcKind})` : e.sql.replace(/\s+/g, ' ').slice(0, 40);
      const c = causes.get(key) ?? { count: 0, ms: 0 };
      c.count++;
      c.ms += e.ms;
      causes.set(key, c);
    }
    return { ...s, causes: [...causes].map(([key, c]) => `${key} x${c.count} (${c.ms.toFixed(1)} ms)`) };
  });
  return {
    sql: [...sql.values()].sort((a, b) => b.totalMs - a.totalMs),
    gc: { count: gcs.length, totalMs: gcs.reduce((a, g) => a + g.ms, 0), maxMs: Math.max(0, ...gcs.map((g) => g.ms)) },
    stalls: explained,
  };
}

let stopPostgres = async () => {};

async function main() {
  if (!which('wrk')) aptInstall(['wrk']);
  const dataDir = tempDir('ck-tail-data-');
  const traceFile = path.join(tempDir('ck-tail-trace-'), 'trace.json');
  const env = {
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${TRACE_MODULE}`.trim(),
    LOOP_TRACE_FILE: traceFile,
  };
  if (DB === 'postgres') {
    // A fresh PostgreSQL 15 cluster on a free loopback port, stopped when this process exits.
    const { startPostgresServer } = await import(path.join(ROOT, 'dist/test/support/postgres-server.js'));
    const server = await startPostgresServer();
    env.CRATEKEEPER_DATABASE__URL = await server.createDatabase();
    stopPostgres = () => server.stop();
  }
  const started = Date.now();
  const ck = await startCratekeeper(dataDir, { dist: DIST_ROOT, env, profile: PROFILE });
  log(`serving at ${ck.url} from ${DIST_ROOT}; publishing`);
  const file = await prepare(ck);
  log(`index file: ${file.bytes} bytes`);
  const index = `${ck.url}/index/${indexPath(TARGET_CRATE)}`;
  const download = `${ck.url}/api/v1/crates/${TARGET_CRATE}/${file.lastVersion}/download`;
  const auth = { authorization: ck.token };
  const targets = PATH === 'both' ? [index, download] : [PATH === 'index' ? index : download];
  const perTarget = Math.floor(CONNECTIONS / targets.length);
  if (WARMUP_S > 0) await Promise.all(targets.map((u) => wrk(u, auth, WARMUP_S, perTarget)));
  writeFileSync(`${traceFile}.reset`, '');
  await sleep(400); // the trace resets its histogram within 200 ms
  const from = Date.now();
  log(`measuring ${DURATION_S} s on ${PATH} with ${CONNECTIONS} connections`);
  const results = await Promise.all(targets.map((u) => wrk(u, auth, DURATION_S, perTarget)));
  const to = Date.now();
  await stopChild(ck.child);
  for (let i = 0; i < 50 && !existsSync(traceFile); i++) await sleep(100);
  const trace = JSON.parse(readFileSync(traceFile, 'utf8'));
  const summary = summarise(trace, from, to);
  const ms = (us) => fmt(us / 1000, 2);

  const out = [];
  out.push(`hot-path tail, ${PATH}, ${DB}, ${CONNECTIONS} connections, ${DURATION_S} s measured (${DIST_ROOT})`);
  out.push(
    ...table(
      ['target', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors'],
      results.map((r, i) => [
        targets[i] === index ? 'index 200' : 'download',
        fmt(r.rps),
        ms(r.latency_us.p50),
        ms(r.latency_us.p90),
        ms(r.latency_us.p99),
        ms(r.latency_us.p999),
        ms(r.latency_us.max),
        String(Object.values(r.errors).reduce((a, b) => a + b, 0)),
      ]),
    ),
  );
  const d = trace.loopDelayMs;
  out.push(
    '',
    `event loop delay (monitorEventLoopDelay, measured window + shutdown): p50 ${d.p50} ms, p99 ${d.p99} ms, p99.9 ${d.p999} ms, max ${d.max} ms`,
  );
  out.push(`GC pauses >= 1 ms: ${summary.gc.count}, total ${fmt(summary.gc.totalMs, 1)} ms, longest ${fmt(summary.gc.maxMs, 1)} ms`);
  out.push('', 'SQLite statements >= 1 ms on the main thread during the window (the flushes that ran):');
  out.push(
    ...table(
      ['sql', 'count', 'total ms', 'max ms'],
      summary.sql.slice(0, 15).map((s) => [s.sql, String(s.count), fmt(s.totalMs, 1), fmt(s.maxMs, 1)]),
    ),
  );
  out.push('', `loop stalls >= 20 ms: ${summary.stalls.length}; the longest, with what overlapped them:`);
  for (const s of summary.stalls.slice(0, 12))
    out.push(
      `  ${new Date(s.at).toISOString().slice(11, 23)} ${fmt(s.ms, 1)} ms (cpu ${fmt(s.cpuMs, 1)} ms): ${s.causes.join('; ') || '(no SQL or GC >= 1 ms)'}`,
    );
  console.log(out.join('\n'));

  const json = {
    machine: machine(),
    options: { DURATION_S, WARMUP_S, CONNECTIONS, PATH, DB, DIST_ROOT },
    file,
    results,
    trace: { loopDelayMs: d, ...summary },
  };
  const resultPath = resultFile('hot-path-tail', json.machine.date);
  writeFileSync(resultPath, JSON.stringify(json, null, 2));
  log(`result: ${path.relative(ROOT, resultPath)}`);
  if (PROFILE) profilesSince(started);
}

await runMain(main, () => void stopPostgres());
