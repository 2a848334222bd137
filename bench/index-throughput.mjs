// Benchmark of the registry core's hot path, measured against nginx on the same machine.
//
// What it measures, and why:
//   * Sparse-index reads are the request cargo sends most (one per crate in a lockfile, revalidated with
//     If-None-Match), so they set the throughput a registry needs. We serve one ~6.3 KB index file
//     (the size in design.md, "Hot paths") through cratekeeper, with a token checked on every request,
//     and the identical bytes from nginx as static files: the ceiling for "send a small file".
//     Four runs of wrk (64 connections, 2 threads): cratekeeper 200, cratekeeper 304, nginx 200,
//     nginx 304. Each gives req/s and p50/p99 latency (from a wrk Lua `done` hook).
//   * Publishing is rare but must not be pathological: 1,000 sequential publishes of small crates
//     through the HTTP API (Node `http`, keep-alive), reported as total time and p50/p99.
//
// Usage: npm run bench   (builds, then runs this file)
//        node bench/index-throughput.mjs [--duration 10] [--warmup 2] [--rounds 3] [--publishes 1000] [--profile]
//   --profile runs the server under `node --cpu-prof` and writes the profile to bench/results/.
//   --baseline DIR also serves the same data folder from another built tree (DIR/dist, e.g. the
//   main branch from `git archive`), one process, and measures it in the same rounds: an A/B.
//   --only REGEX runs only the scenarios whose name matches (e.g. --only '^(cratekeeper|bare node) 200').
//
// It installs Debian's nginx and wrk if missing, uses loopback addresses only, bounds every wait and
// loop, writes bench/results/index-throughput-<time>.json, and stops every process it started (the
// server and nginx), also on failure. Figures are measured here, never asserted: this is not a test.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT,
  cpuShare,
  cpuTimes,
  ensureNginxAndWrk,
  listeningUrl,
  fmt,
  log,
  loopbackClient,
  machine,
  median,
  medianRound,
  ms,
  option,
  percentile,
  profilesSince,
  resultFile,
  runMain,
  runWrk,
  setLogTag,
  startNginx,
  startCratekeeper,
  stopChild,
  table,
  tempDir,
  threadCpuTimes,
  track,
  WRK_LUA,
} from './lib.mjs';
import { OTHER_CRATES, TARGET_CRATE, fetchIndex, prepareIndex, publish, publishBody } from './hot-index.mjs';

const DURATION_S = Math.min(option('duration', 10), 120);
const WARMUP_S = Math.min(option('warmup', 2), 30);
const PUBLISHES = Math.min(option('publishes', 1000), 10_000);
const PROFILE = option('profile', false);
const BASELINE = option('baseline', '');
const ONLY = option('only', '');
const ROUNDS = Math.max(1, Math.min(option('rounds', 3), 10));
const CONNECTIONS = 64;
const THREADS = 2;
const WRK = { threads: THREADS, connections: CONNECTIONS, timeout: '5s' };

setLogTag('bench');

// One keep-alive connection: the publishes go one after another over it.
const { agent, request } = loopbackClient({ maxSockets: 1 });

// ---------------------------------------------------------------- cratekeeper

/** CPU seconds a process has used so far, all threads; NaN for none or once it has exited. */
function processCpuSeconds(pid) {
  if (pid === undefined) return NaN;
  const threads = [...threadCpuTimes(pid).values()];
  return threads.length === 0 ? NaN : threads.reduce((sum, t) => sum + t.seconds, 0);
}

// workers > 1 runs `serve --workers N`; a second server on an existing data folder prints no token.
async function startServer({ workers = 1, dataDir = tempDir('ck-bench-data-') } = {}) {
  return { ...(await startCratekeeper(dataDir, { workers, profile: PROFILE, fresh: workers === 1 })), dataDir };
}

// ---------------------------------------------------------------- bare Node reference (bare-node-server.mjs)

async function startBareNode(www, token, workers) {
  const child = track(
    spawn(process.execPath, [path.join(ROOT, 'bench/bare-node-server.mjs'), www], {
      env: { ...process.env, BENCH_TOKEN: token, BENCH_WORKERS: String(workers) },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
    `bare node x${workers}`,
  );
  return { child, url: await listeningUrl(child, `bare node server x${workers}`, 15_000) };
}

// ---------------------------------------------------------------- wrk

// One request with the exact headers wrk will send, to be sure each scenario measures what it says.
async function checkScenario(s) {
  const res = await request(s.url, { headers: s.headers });
  if (res.status !== s.expectStatus) throw new Error(`${s.name}: expected ${s.expectStatus}, got ${res.status}`);
  if (s.expectBody && !res.body.equals(s.expectBody)) throw new Error(`${s.name}: body differs from the rendered index file`);
  return { status: res.status, bytes: res.body.length, etag: res.headers.etag, contentEncoding: res.headers['content-encoding'] ?? null };
}

// ---------------------------------------------------------------- publish latency

async function publishLatency(ck, count) {
  // Bodies are built before the clock starts: we time the server, not the tar/gzip of the client.
  // 1,000 publishes = 250 small crates x 4 versions, each with one dependency, in order of version.
  const crates = 250;
  const bodies = [];
  for (let i = 0; i < count; i++) {
    const name = `bench-pub-${String(i % crates).padStart(4, '0')}`;
    bodies.push(await publishBody(name, `0.${Math.floor(i / crates)}.0`, [OTHER_CRATES[0]]));
  }
  const times = [];
  const t0 = process.hrtime.bigint();
  for (const body of bodies) {
    const start = process.hrtime.bigint();
    await publish(request, ck, body);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const totalMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const sorted = [...times].sort((a, b) => a - b);
  return {
    count,
    bodyBytes: Math.round(bodies.reduce((a, b) => a + b.length, 0) / count),
    totalSeconds: totalMs / 1000,
    perSecond: count / (totalMs / 1000),
    latencyMs: {
      mean: times.reduce((a, b) => a + b, 0) / count,
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p99: percentile(sorted, 99),
      max: sorted.at(-1),
      first100p50: percentile(
        [...times.slice(0, 100)].sort((a, b) => a - b),
        50,
      ),
      last100p50: percentile(
        [...times.slice(-100)].sort((a, b) => a - b),
        50,
      ),
    },
  };
}

// ---------------------------------------------------------------- main

async function main() {
  const startedAt = Date.now();
  const result = {
    benchmark: 'index-throughput',
    machine: machine(),
    settings: { DURATION_S, WARMUP_S, ROUNDS, CONNECTIONS, THREADS, PUBLISHES, PROFILE },
  };
  const tools = ensureNginxAndWrk();
  result.tools = { nginx: tools.nginxVersion, wrk: tools.wrkVersion };
  log(`machine: ${result.machine.nproc} cores, ${result.machine.cpuModel}, node ${result.machine.node}`);

  const ck = await startServer();
  log(`cratekeeper at ${ck.url}`);
  const { www, files } = await prepareIndex(request, ck);
  const hot = files[TARGET_CRATE];
  result.indexFiles = files;
  log(`hot index file ${hot.path}: ${hot.bytes} bytes, ${hot.lines} versions, ETag ${hot.etag}`);
  const nginx = await startNginx(tools.nginx, www);
  log(`nginx at ${nginx.url}`);
  const ck2 = await startServer({ workers: 2, dataDir: ck.dataDir });
  log(`cratekeeper --workers 2 at ${ck2.url}`);
  const baseline = BASELINE === '' ? undefined : await startCratekeeper(ck.dataDir, { dist: path.resolve(BASELINE), fresh: false });
  if (baseline) log(`baseline cratekeeper (${BASELINE}) at ${baseline.url}`);
  const bare1 = await startBareNode(www, ck.token, 1);
  const bare2 = await startBareNode(www, ck.token, 2);

  const hotBody = (await fetchIndex(request, ck, TARGET_CRATE)).body;
  const nginxHead = await request(`${nginx.url}${hot.path}`);
  const nginxEtag = nginxHead.headers.etag;
  const auth = { Authorization: ck.token };
  const allScenarios = [
    {
      name: 'cratekeeper 200',
      server: 'cratekeeper',
      pid: ck.child.pid,
      url: `${ck.url}${hot.path}`,
      headers: auth,
      expectStatus: 200,
      expectBody: hotBody,
    },
    {
      name: 'cratekeeper 304',
      server: 'cratekeeper',
      pid: ck.child.pid,
      url: `${ck.url}${hot.path}`,
      headers: { ...auth, 'If-None-Match': hot.etag },
      expectStatus: 304,
    },
    ...(baseline
      ? [
          {
            name: 'baseline 200',
            server: 'baseline',
            pid: baseline.child.pid,
            url: `${baseline.url}${hot.path}`,
            headers: auth,
            expectStatus: 200,
            expectBody: hotBody,
          },
          {
            name: 'baseline 304',
            server: 'baseline',
            pid: baseline.child.pid,
            url: `${baseline.url}${hot.path}`,
            headers: { ...auth, 'If-None-Match': hot.etag },
            expectStatus: 304,
          },
        ]
      : []),
    {
      name: 'cratekeeper x2 200',
      server: 'cratekeeper --workers 2',
      url: `${ck2.url}${hot.path}`,
      headers: auth,
      expectStatus: 200,
      expectBody: hotBody,
    },
    {
      name: 'cratekeeper x2 304',
      server: 'cratekeeper --workers 2',
      url: `${ck2.url}${hot.path}`,
      headers: { ...auth, 'If-None-Match': hot.etag },
      expectStatus: 304,
    },
    { name: 'nginx 200', server: 'nginx', url: `${nginx.url}${hot.path}`, headers: {}, expectStatus: 200, expectBody: hotBody },
    { name: 'nginx 304', server: 'nginx', url: `${nginx.url}${hot.path}`, headers: { 'If-None-Match': nginxEtag }, expectStatus: 304 },
    // References, not cratekeeper: the least one Node process (and two) can do for the same request.
    {
      name: 'bare node 200',
      server: 'bare node x1',
      pid: bare1.child.pid,
      url: `${bare1.url}${hot.path}`,
      headers: auth,
      expectStatus: 200,
      expectBody: hotBody,
    },
    {
      name: 'bare node 304',
      server: 'bare node x1',
      pid: bare1.child.pid,
      url: `${bare1.url}${hot.path}`,
      headers: { ...auth, 'If-None-Match': hot.etag },
      expectStatus: 304,
    },
    {
      name: 'bare node x2 200',
      server: 'bare node x2',
      url: `${bare2.url}${hot.path}`,
      headers: auth,
      expectStatus: 200,
      expectBody: hotBody,
    },
    {
      name: 'bare node x2 304',
      server: 'bare node x2',
      url: `${bare2.url}${hot.path}`,
      headers: { ...auth, 'If-None-Match': hot.etag },
      expectStatus: 304,
    },
  ];
  const scenarios = ONLY === '' ? allScenarios : allScenarios.filter((s) => new RegExp(ONLY).test(s.name));
  if (scenarios.length === 0) throw new Error(`--only ${ONLY} matches no scenario`);
  const lua = path.join(tempDir('ck-bench-wrk-'), 'report.lua');
  writeFileSync(lua, WRK_LUA);

  // Rounds interleave the scenarios, so that a slow spell of this shared machine hits all of them,
  // in the opposite order every other round, so that a machine slowing down (or speeding up) over
  // a round does not favour the scenarios run first; the table shows each scenario's median round
  // (by req/s) and the spread over rounds.
  const runs = Object.fromEntries(scenarios.map((s) => [s.name, []]));
  const checks = {};
  for (const s of scenarios) checks[s.name] = await checkScenario(s);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of round % 2 === 1 ? scenarios : [...scenarios].reverse()) {
      if (WARMUP_S > 0) await runWrk(tools.wrk, lua, s.url, s.headers, WARMUP_S, WRK);
      const before = cpuTimes();
      const serverBefore = processCpuSeconds(s.pid);
      const r = await runWrk(tools.wrk, lua, s.url, s.headers, DURATION_S, WRK);
      r.cpu = cpuShare(before, cpuTimes());
      // The server's own CPU time per request (user + system, all its threads): steadier than
      // req/s on a machine whose other work moves, and what one request costs that process.
      r.serverCpuUsPerRequest = ((processCpuSeconds(s.pid) - serverBefore) * 1e6) / r.requests;
      runs[s.name].push(r);
      log(
        `round ${round}/${ROUNDS} ${s.name}: ${fmt(r.rps)} req/s, p50 ${ms(r.latency_us.p50)} ms, ` +
          `p99 ${ms(r.latency_us.p99)} ms; machine cpu ${JSON.stringify(r.cpu)}`,
      );
    }
  }
  result.index = {};
  for (const s of scenarios) result.index[s.name] = medianRound(runs[s.name], checks[s.name]);
  // A ratio of two scenarios, or NaN when --only left one of them out.
  const ratio = (a, b) => (result.index[a]?.rps ?? NaN) / (result.index[b]?.rps ?? NaN);
  // The median of the two scenarios' ratios round by round: runs minutes apart on this shared
  // machine may differ by a fifth, runs in the same round less.
  const pairedRatio = (a, b) => (runs[a] && runs[b] ? median(runs[a].map((run, i) => run.rps / runs[b][i].rps)) : NaN);
  result.ratio = {
    200: ratio('cratekeeper 200', 'nginx 200'),
    304: ratio('cratekeeper 304', 'nginx 304'),
    'x2 200': ratio('cratekeeper x2 200', 'nginx 200'),
    'x2 304': ratio('cratekeeper x2 304', 'nginx 304'),
    'bare 200': ratio('cratekeeper 200', 'bare node 200'),
    'bare 304': ratio('cratekeeper 304', 'bare node 304'),
    'bare 200 by round': pairedRatio('cratekeeper 200', 'bare node 200'),
    'x2 200 / bare x2': ratio('cratekeeper x2 200', 'bare node x2 200'),
    ...(baseline
      ? { 'baseline 200': ratio('cratekeeper 200', 'baseline 200'), 'baseline 304': ratio('cratekeeper 304', 'baseline 304') }
      : {}),
  };

  if (PUBLISHES > 0) {
    log(`publishing ${PUBLISHES} small crates sequentially`);
    result.publish = await publishLatency(ck, PUBLISHES);
  }

  await stopChild(ck2.child, 30_000);
  if (baseline) await stopChild(baseline.child, 30_000);
  await stopChild(nginx.child);
  await stopChild(bare1.child);
  await stopChild(bare2.child);
  await stopChild(ck.child, 30_000);
  if (PROFILE) result.profile = profilesSince(startedAt);

  // ---- report
  const rows = Object.entries(result.index).map(([name, r]) => [
    name,
    fmt(r.rps),
    `${fmt(r.rpsMin)}-${fmt(r.rpsMax)}`,
    ms(r.latency_us.p50),
    ms(r.latency_us.p99),
    fmt(r.bytesPerResponse),
    String(r.errors.connect + r.errors.read + r.errors.write + r.errors.status + r.errors.timeout),
    `${r.cpu.user}/${r.cpu.system}/${r.cpu.idle}/${r.cpu.steal}`,
    fmt(median(r.rounds.map((round) => round.serverCpuUsPerRequest)), 1),
  ]);
  const head = [
    'scenario',
    'req/s',
    `range (${ROUNDS} rounds)`,
    'p50 ms',
    'p99 ms',
    'bytes/resp',
    'errors',
    'cpu us/sy/id/st %',
    'server cpu us/req',
  ];
  const out = [];
  out.push('');
  out.push(
    `index file ${hot.path}: ${hot.bytes} bytes (${hot.lines} versions); wrk ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION_S} s a run, median of ${ROUNDS} rounds`,
  );
  out.push(...table(head, rows));
  out.push('');
  out.push(`cratekeeper / nginx: 200 path ${fmt(result.ratio['200'] * 100, 1)} %, 304 path ${fmt(result.ratio['304'] * 100, 1)} %`);
  out.push(
    `cratekeeper --workers 2 / nginx: 200 path ${fmt(result.ratio['x2 200'] * 100, 1)} %, 304 path ${fmt(result.ratio['x2 304'] * 100, 1)} %`,
  );
  out.push(
    `cratekeeper / bare node (1 process): 200 path ${fmt(result.ratio['bare 200'], 2)}x ` +
      `(median of the rounds' ratios ${fmt(result.ratio['bare 200 by round'], 2)}x), 304 path ${fmt(result.ratio['bare 304'], 2)}x`,
  );
  out.push(`cratekeeper --workers 2 / bare node x2: 200 path ${fmt(result.ratio['x2 200 / bare x2'], 2)}x`);
  if (baseline)
    out.push(
      `cratekeeper / baseline (${BASELINE}): 200 path ${fmt(result.ratio['baseline 200'], 2)}x, 304 path ${fmt(result.ratio['baseline 304'], 2)}x`,
    );
  const p = result.publish;
  if (p)
    out.push(
      `publish x${p.count} (sequential, keep-alive): total ${fmt(p.totalSeconds, 2)} s, ${fmt(p.perSecond, 1)}/s, ` +
        `p50 ${fmt(p.latencyMs.p50, 2)} ms, p99 ${fmt(p.latencyMs.p99, 2)} ms, max ${fmt(p.latencyMs.max, 2)} ms`,
    );
  out.push(
    `load average at start ${result.machine.loadAverageAtStart.join(' ')}, at end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (other work on this machine skews figures)`,
  );
  console.log(out.join('\n'));

  const file = resultFile('index-throughput', result.machine.date);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(ROOT, file)}`);
}

await runMain(main, () => agent.destroy());
