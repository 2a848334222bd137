// What one hostile request costs the server while it is being processed: the answer, how long it
// took, the latency of `/healthz` and of a cached index file probed meanwhile, and the server's
// resident memory. Run it on two builds (before and after a change) to compare them. See
// bench/README.md ("Hostile inputs").
//
// What it does, for the cratekeeper built in --dist:
//   1. Prepares a data folder once: a first start prints the admin's token; ten dependency crates, a
//      normal crate `hb-normal` (the probed index file) and `hb-many-versions` with 1,000 versions
//      (a ~2 MB index file) are published; then, server stopped, the CLI adds users hb-user-0..7
//      with a token each (all scopes) and a `read`-only token for the admin.
//   2. For each round and each input: copies that folder, starts a fresh server on the copy (so that
//      memory figures start from the same place and every cache is empty), fetches the normal index
//      file once (now cached), probes for 1 s at rest, then sends the input while two loops probe
//      `GET /healthz` and `GET /index/hb/no/hb-normal` (one request in flight each, at most one every
//      10 ms) and /proc/<pid>/status is read every 25 ms (VmRSS; VmHWM gives the true peak). The
//      probes go on for 2 s after the answer (reported apart), and the server's memory is read at
//      the end of those 2 s; then the server is stopped. The CPU time of the server's threads
//      (/proc/<pid>/task) from the send to the answer says whether the work ran on the event loop
//      (the main thread) or beside it (worker threads, libuv's pool).
//   3. An input that gets no answer within --timeout seconds is reported as "> N s" and its server is
//      killed; so is a server whose RSS passes --max-rss-mib (the machine is shared).
//
// The inputs (bodies built once, before any clock starts):
//   bomb-read-token     a 255 KiB .crate that unpacks to 256 MiB (one file of zeros), published with a
//                       `read`-only token
//   bomb-publish        the same with a publish token (a valid crate: under publish.max_unpacked_size)
//   bomb-over-limit     767 KiB that unpack to 770 MiB, with a publish token (past the 512 MiB limit)
//   entries-600k        a .crate of 600,000 empty files (4.4 MiB), with a publish token
//   entries-1m          1,000,000 empty files (7.3 MiB)
//   concurrent-bombs    --concurrency (8) copies of bomb-over-limit at once, one per user hb-user-i
//   index-1000-versions the 1,000-version index file, uncached (first read after start), gzip accepted
//   readme-nested-divs  (only with --only) the first render of a crate page whose README is
//                       --readme-depth (150,000) nested <div>s; published and signed in beforehand
//
// Usage: node bench/hostile-inputs.mjs [--dist DIR | CRATEKEEPER_DIST=DIR] [--label NAME] [--rounds 3]
//          [--timeout 60] [--only bomb-publish,entries-1m] [--concurrency 8] [--max-rss-mib 8192] [--profile]
//   --dist DIR   the cratekeeper to measure: DIR/dist/cli/main.js (default: this tree)
//   --label      names the result file (default: the build's commit)
//   --profile    runs each measured server under `node --cpu-prof` (files in bench/results/)
//   --report F   prints the tables of a result file F again, measuring nothing
//
// Everything listens on 127.0.0.1 on OS-chosen ports; every process it starts is stopped at the end,
// also on failure or Ctrl-C, and its temporary folders removed. JSON goes to
// bench/results/hostile-inputs-<label>-<time>.json. Figures are measured, never asserted.

import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import {
  ROOT,
  cpuShare,
  cpuTimes,
  crateFile,
  fmt,
  indexPath,
  log,
  loopbackClient,
  machine,
  median,
  option,
  percentile,
  processMemory,
  publishBody,
  publishMetadata,
  resultFile,
  runMain,
  setLogTag,
  startCratekeeper,
  stopChild,
  table,
  tempDir,
  threadCpuTimes,
} from './lib.mjs';

setLogTag('hostile');

// Hand-written ustar headers (tar-stream takes minutes for a million entries), shared with
// test/security/publish-order.test.ts: from this tree's build, not --dist's (`npx tsc -b` first).
const { tarHeader } = await import(path.join(ROOT, 'dist/test/support/tar-header.js'));

const DIST = path.resolve(option('dist', process.env.CRATEKEEPER_DIST ?? ROOT));
const ROUNDS = Math.max(1, Math.min(option('rounds', 3), 10));
const TIMEOUT_S = Math.max(5, Math.min(option('timeout', 60), 600));
const CONCURRENCY = Math.max(1, Math.min(option('concurrency', 8), 64));
const MAX_RSS_MIB = option('max-rss-mib', 8192);
const README_DEPTH = option('readme-depth', 150_000);
const VERSIONS = Math.max(10, Math.min(option('versions', 1000), 5000));
const PROFILE = option('profile', false);
const PROBE_INTERVAL_MS = 10;
const SAMPLE_INTERVAL_MS = 25;
const AFTER_MS = 2000;
const IDLE_MS = 1000;
const DEFAULT_CASES = [
  'bomb-read-token',
  'bomb-publish',
  'bomb-over-limit',
  'entries-600k',
  'entries-1m',
  'concurrent-bombs',
  'index-1000-versions',
];
const ALL_CASES = [...DEFAULT_CASES, 'readme-nested-divs'];
const ONLY = option('only', DEFAULT_CASES.join(',')).split(',');
for (const name of ONLY) if (!ALL_CASES.includes(name)) throw new Error(`--only: unknown input ${name} (known: ${ALL_CASES.join(', ')})`);

const DEPS = Array.from({ length: 10 }, (_, i) => `hb-dep-${i}`);
const NORMAL = 'hb-normal';
const MANY = 'hb-many-versions';
const USERS = Array.from({ length: Math.max(CONCURRENCY, 1) }, (_, i) => `hb-user-${i}`);
const MiB = 1024 ** 2;

const git = (...args) => spawnSync('git', ['-C', DIST, ...args], { encoding: 'utf8' }).stdout.trim();
const COMMIT = git('rev-parse', '--short', 'HEAD') || 'unknown';
const LABEL = option('label', COMMIT);

// ---------------------------------------------------------------- hostile bodies

const manifestText = (name, vers, extra = '') =>
  `[package]\nname = "${name}"\nversion = "${vers}"\nedition = "2021"\nlicense = "MIT"\n${extra}`;

function manifestEntry(name, vers) {
  const text = Buffer.from(manifestText(name, vers));
  return Buffer.concat([tarHeader(`${name}-${vers}/Cargo.toml`, text.length), text, Buffer.alloc((512 - (text.length % 512)) % 512)]);
}

/** Gzips what `parts` yields, streamed, so that the unpacked form is never held in memory. */
async function gzipParts(parts, level) {
  const gzip = createGzip({ level });
  const out = [];
  gzip.on('data', (c) => out.push(c));
  const done = once(gzip, 'end');
  for (const part of parts) if (!gzip.write(part)) await once(gzip, 'drain');
  gzip.end();
  await done;
  return Buffer.concat(out);
}

/** A .crate: Cargo.toml and one file of `unpacked` zero bytes. */
function bombCrate(name, vers, unpacked) {
  function* parts() {
    yield manifestEntry(name, vers);
    yield tarHeader(`${name}-${vers}/zeros`, unpacked);
    const block = Buffer.alloc(MiB);
    for (let left = unpacked + 1024; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
  }
  return gzipParts(parts(), 9);
}

/** A .crate: Cargo.toml and `count` empty files. */
function manyEntriesCrate(name, vers, count) {
  function* parts() {
    yield manifestEntry(name, vers);
    let batch = [];
    for (let i = 0; i < count; i++) {
      batch.push(tarHeader(`${name}-${vers}/${i.toString(36)}`, 0));
      if (batch.length === 4096) {
        yield Buffer.concat(batch);
        batch = [];
      }
    }
    yield Buffer.concat([...batch, Buffer.alloc(1024)]);
  }
  return gzipParts(parts(), 6);
}

const upload = (name, vers, crate) => publishBody(publishMetadata(name, vers, []), crate);

// ---------------------------------------------------------------- the prepared data folder

const setupClient = loopbackClient({ maxSockets: 4, timeoutMs: 120_000 });

async function publish(url, token, body) {
  const res = await setupClient.request(`${url}/api/v1/crates/new`, {
    method: 'PUT',
    headers: { authorization: token, 'content-length': body.length },
    body,
  });
  if (res.status !== 200) throw new Error(`publish: ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
}

// About 2 KB per index line: ten dependencies and twenty features, as a large real crate has.
const manyFeatures = Object.fromEntries([
  ['default', ['std']],
  ['std', []],
  ...Array.from({ length: 20 }, (_, i) => [`feature-${i}`, ['std', `hb-dep-${i % 10}/std`]]),
]);

async function cli(args) {
  const res = spawnSync(process.execPath, [path.join(DIST, 'dist/cli/main.js'), ...args], {
    cwd: DIST,
    encoding: 'utf8',
    env: { ...process.env, CRATEKEEPER_LOG__LEVEL: 'warn' },
    timeout: 60_000,
  });
  if (res.status !== 0) throw new Error(`cratekeeper ${args.join(' ')}: ${res.status}\n${res.stderr}`);
  return res.stdout;
}

async function prepareTemplate() {
  const dir = tempDir('ck-hostile-template-');
  const t0 = performance.now();
  const ck = await startCratekeeper(dir, { dist: DIST });
  for (const dep of DEPS) {
    await publish(ck.url, ck.token, upload(dep, '1.0.0', await crateFile(dep, '1.0.0')));
  }
  await publish(ck.url, ck.token, publishBody(publishMetadata(NORMAL, '1.0.0', [[DEPS[0], '^1.0']]), await crateFile(NORMAL, '1.0.0')));
  for (let i = 0; i < VERSIONS; i++) {
    const vers = `0.${i}.0`;
    const meta = publishMetadata(
      MANY,
      vers,
      DEPS.map((d) => [d, '^1.0']),
      { features: manyFeatures },
    );
    await publish(ck.url, ck.token, publishBody(meta, await crateFile(MANY, vers)));
  }
  const many = await setupClient.request(`${ck.url}/index/${indexPath(MANY)}`, { headers: { authorization: ck.token } });
  if (many.status !== 200) throw new Error(`index of ${MANY}: ${many.status}`);
  await stopChild(ck.child, 30_000);

  const token = (out) =>
    /ckt_\S+/.exec(out)?.[0] ??
    (() => {
      throw new Error(`no token in: ${out}`);
    })();
  const readToken = token(await cli(['token', 'create', '--user', 'admin', '--name', 'read-only', '--scopes', 'read', '--data-dir', dir]));
  const userTokens = [];
  for (const user of USERS) {
    await cli(['user', 'add', user, '--data-dir', dir]);
    userTokens.push(token(await cli(['token', 'create', '--user', user, '--data-dir', dir])));
  }
  log(
    `prepared in ${fmt((performance.now() - t0) / 1000, 1)} s: ${MANY} index file ${many.body.length} bytes (${VERSIONS} versions), ${USERS.length} users`,
  );
  return { dir, adminToken: ck.token, readToken, userTokens, manyIndexBytes: many.body.length };
}

// ---------------------------------------------------------------- probes and memory

/** Requests `path` over its own connection, one at a time, at most one per PROBE_INTERVAL_MS, until stopped. */
function probeLoop(client, url, headers) {
  const samples = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const start = performance.now();
      let status = 0;
      try {
        status = (await client.request(url, { headers })).status;
      } catch {
        status = 0;
      }
      samples.push({ at: start, ms: performance.now() - start, status });
      const wait = start + PROBE_INTERVAL_MS - performance.now();
      if (wait > 0 && !stopped) await sleep(wait);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
      return samples;
    },
  };
}

function latencySummary(samples) {
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  return {
    count: sorted.length,
    failed: samples.filter((s) => s.status !== 200).length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    over100: samples.filter((s) => s.ms > 100).length,
  };
}

/** Reads the server's memory every SAMPLE_INTERVAL_MS; kills it past MAX_RSS_MIB. */
function memorySampler(child) {
  const timeline = [];
  let peakRss = 0;
  let killed = false;
  const t0 = performance.now();
  const timer = setInterval(() => {
    const m = processMemory(child.pid);
    if (!m) return;
    peakRss = Math.max(peakRss, m.rssMiB);
    timeline.push([Math.round(performance.now() - t0), Math.round(m.rssMiB)]);
    if (m.rssMiB > MAX_RSS_MIB && !killed) {
      killed = true;
      log(`server RSS ${fmt(m.rssMiB)} MiB is over --max-rss-mib ${MAX_RSS_MIB}: killing it`);
      child.benchStopping = true;
      child.kill('SIGKILL');
    }
  }, SAMPLE_INTERVAL_MS);
  return {
    stop: () => {
      clearInterval(timer);
      return { peakRss, killed, timeline: timeline.filter((_, i) => i % 4 === 0) };
    },
  };
}

/** The server's CPU seconds between two threadCpuTimes() readings: its main thread (the event loop) and all others. */
function cpuByThread(pid, before, after) {
  const spent = [...after].map(([tid, t]) => ({ tid, name: t.name, seconds: t.seconds - (before.get(tid)?.seconds ?? 0) }));
  const main = spent.find((t) => t.tid === pid)?.seconds ?? NaN;
  const others = spent.filter((t) => t.tid !== pid);
  return {
    mainSeconds: main,
    otherThreadsSeconds: others.reduce((sum, t) => sum + t.seconds, 0),
    busyThreads: others.filter((t) => t.seconds >= 0.05).map((t) => ({ ...t, seconds: +t.seconds.toFixed(2) })),
  };
}

// ---------------------------------------------------------------- the inputs

const hostileClient = loopbackClient({ maxSockets: 64, timeoutMs: (TIMEOUT_S + 30) * 1000 });
const errorDetail = (res) => {
  try {
    return JSON.parse(res.body.toString('utf8')).errors?.[0]?.detail ?? '';
  } catch {
    return res.body.toString('utf8').slice(0, 120);
  }
};

/** One request: its status, cargo's error detail when there is one, and how long it took. */
async function send(url, { method = 'GET', headers = {}, body, marker } = {}) {
  const start = performance.now();
  try {
    const res = await hostileClient.request(url, { method, headers: body ? { ...headers, 'content-length': body.length } : headers, body });
    const ms = performance.now() - start;
    const detail = res.status >= 400 ? errorDetail(res) : marker && !res.body.includes(marker) ? `the answer lacks \`${marker}\`` : '';
    return { status: res.status, detail, bytes: res.body.length, ms };
  } catch (error) {
    return { status: 0, detail: `no answer: ${error.message}`, ms: performance.now() - start };
  }
}

const putCrate = (ck, token, body) => send(`${ck.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token }, body });

async function signIn(ck, token) {
  const cookies = (res) => [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
  const form = await setupClient.request(`${ck.url}/sign-in`);
  const login = cookies(form).find((c) => c.startsWith('ck_login=') && c !== 'ck_login=');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body.toString('utf8'))?.[1];
  if (form.status !== 200 || !login || !csrf) throw new Error(`sign-in form: ${form.status}`);
  const body = new URLSearchParams({ csrf, token }).toString();
  const done = await setupClient.request(`${ck.url}/me/token-sign-in`, {
    method: 'POST',
    headers: { cookie: login, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    body,
  });
  const session = cookies(done).find((c) => c.startsWith('ck_session=') && c !== 'ck_session=');
  if (done.status !== 303 || !session) throw new Error(`token sign-in: ${done.status}`);
  return session;
}

/** Builds the bodies of the chosen inputs; each case is { name, what, prepare?, run(ck, prepared) }. */
async function buildCases(template) {
  const t0 = performance.now();
  const cases = [];
  const needs = (...names) => names.some((n) => ONLY.includes(n));
  const user0 = template.userTokens[0];
  if (needs('bomb-read-token', 'bomb-publish')) {
    const bomb = upload('hb-bomb', '1.0.0', await bombCrate('hb-bomb', '1.0.0', 256 * MiB));
    cases.push({ name: 'bomb-read-token', bodyBytes: bomb.length, run: (ck) => putCrate(ck, template.readToken, bomb) });
    cases.push({ name: 'bomb-publish', bodyBytes: bomb.length, run: (ck) => putCrate(ck, user0, bomb) });
  }
  if (needs('bomb-over-limit', 'concurrent-bombs')) {
    const big = upload('hb-bomb', '1.0.0', await bombCrate('hb-bomb', '1.0.0', 770 * MiB));
    cases.push({ name: 'bomb-over-limit', bodyBytes: big.length, run: (ck) => putCrate(ck, user0, big) });
    cases.push({
      name: 'concurrent-bombs',
      bodyBytes: big.length,
      run: (ck) => Promise.all(template.userTokens.slice(0, CONCURRENCY).map((token) => putCrate(ck, token, big))),
    });
  }
  if (needs('entries-600k')) {
    const body = upload('hb-entries', '1.0.0', await manyEntriesCrate('hb-entries', '1.0.0', 600_000));
    cases.push({ name: 'entries-600k', bodyBytes: body.length, run: (ck) => putCrate(ck, user0, body) });
  }
  if (needs('entries-1m')) {
    const body = upload('hb-entries', '1.0.0', await manyEntriesCrate('hb-entries', '1.0.0', 1_000_000));
    cases.push({ name: 'entries-1m', bodyBytes: body.length, run: (ck) => putCrate(ck, user0, body) });
  }
  if (needs('index-1000-versions')) {
    cases.push({
      name: 'index-1000-versions',
      bodyBytes: 0,
      run: (ck) =>
        send(`${ck.url}/index/${indexPath(MANY)}`, { headers: { authorization: template.adminToken, 'accept-encoding': 'gzip' } }),
    });
  }
  if (needs('readme-nested-divs')) {
    const name = 'hb-readme-divs';
    // The marker opens the README, so a page that shows it only in part (cut at 512 KiB, or as plain
    // text when nested too deep) still shows it.
    const readme =
      'hostile-readme-begins\n' + '<div>'.repeat(README_DEPTH) + 'deep-inside-the-readme' + '</div>'.repeat(README_DEPTH) + '\n';
    const crate = await crateFile(name, '1.0.0', { readme });
    const body = publishBody(publishMetadata(name, '1.0.0', [], { readme_file: 'README.md' }), crate);
    cases.push({
      name: 'readme-nested-divs',
      bodyBytes: body.length,
      // The publish and the sign-in come before the clock: the page's first render is the input.
      prepare: async (ck) => {
        const published = await putCrate(ck, user0, body);
        if (published.status !== 200) throw new Error(`publishing ${name}: ${published.status} ${published.detail}`);
        return { cookie: await signIn(ck, template.adminToken) };
      },
      // The detail notes a page without the README's text (rendered elsewhere, or refused).
      run: (ck, { cookie }) => send(`${ck.url}/crates/${name}`, { headers: { cookie }, marker: 'hostile-readme-begins' }),
    });
  }
  log(
    `inputs built in ${fmt((performance.now() - t0) / 1000, 1)} s: ${cases.map((c) => `${c.name} ${fmt(c.bodyBytes / 1024)} KiB`).join(', ')}`,
  );
  return ONLY.map((name) => cases.find((c) => c.name === name));
}

// ---------------------------------------------------------------- one input on a fresh server

async function measure(template, kase) {
  const dataDir = tempDir('ck-hostile-data-');
  cpSync(template.dir, dataDir, { recursive: true });
  const ck = await startCratekeeper(dataDir, { dist: DIST, fresh: false, profile: PROFILE });
  const healthClient = loopbackClient({ maxSockets: 1, timeoutMs: (TIMEOUT_S + 30) * 1000 });
  const indexClient = loopbackClient({ maxSockets: 1, timeoutMs: (TIMEOUT_S + 30) * 1000 });
  const indexUrl = `${ck.url}/index/${indexPath(NORMAL)}`;
  const indexHeaders = { authorization: template.adminToken, 'accept-encoding': 'gzip' };
  try {
    const warm = await indexClient.request(indexUrl, { headers: indexHeaders });
    if (warm.status !== 200) throw new Error(`index of ${NORMAL}: ${warm.status}`);
    const probes = () => [probeLoop(healthClient, `${ck.url}/healthz`, {}), probeLoop(indexClient, indexUrl, indexHeaders)];

    let loops = probes();
    await sleep(IDLE_MS);
    const [idleHealth, idleIndex] = await Promise.all(loops.map((l) => l.stop()));
    const prepared = kase.prepare ? await kase.prepare(ck) : undefined;

    const before = processMemory(ck.child.pid);
    const threadsBefore = threadCpuTimes(ck.child.pid);
    const sampler = memorySampler(ck.child);
    const cpuBefore = cpuTimes();
    loops = probes();
    const start = performance.now();
    const startMonotonicUs = Number(process.hrtime.bigint() / 1000n); // the clock of a .cpuprofile's timestamps
    const answer = kase.run(ck, prepared);
    answer.catch(() => undefined);
    let timer;
    const bound = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), TIMEOUT_S * 1000);
    });
    const outcome = await Promise.race([answer, bound]);
    clearTimeout(timer);
    const durationMs = performance.now() - start;
    const timedOut = outcome === 'timeout';
    const atAnswer = processMemory(ck.child.pid);
    const serverCpu = cpuByThread(ck.child.pid, threadsBefore, threadCpuTimes(ck.child.pid));
    if (timedOut) {
      log(`${kase.name}: no answer within ${TIMEOUT_S} s; killing the server`);
      ck.child.benchStopping = true;
      ck.child.kill('SIGKILL');
    }
    const [health, index] = await Promise.all(loops.map((l) => l.stop()));
    const cpu = cpuShare(cpuBefore, cpuTimes());
    // The 2 s after the answer are probed too: work the input leaves behind (a worker still busy,
    // a large garbage collection) shows there.
    let afterHealth = [];
    let afterIndex = [];
    if (!timedOut) {
      loops = probes();
      await sleep(AFTER_MS);
      [afterHealth, afterIndex] = await Promise.all(loops.map((l) => l.stop()));
    }
    const after = processMemory(ck.child.pid);
    const memory = sampler.stop();
    return {
      answers: timedOut ? [{ status: 'timeout', detail: `no answer within ${TIMEOUT_S} s`, ms: durationMs }] : [].concat(outcome),
      timedOut,
      durationMs,
      cpu,
      serverCpu,
      startMonotonicUs,
      serverPid: ck.child.pid,
      idle: { health: latencySummary(idleHealth), index: latencySummary(idleIndex) },
      health: latencySummary(health),
      index: latencySummary(index),
      afterAnswer: { health: latencySummary(afterHealth), index: latencySummary(afterIndex) },
      memory: {
        beforeMiB: before?.rssMiB,
        hwmBeforeMiB: before?.hwmMiB,
        peakMiB: Math.max(...[atAnswer?.hwmMiB, after?.hwmMiB, memory.peakRss].filter(Number.isFinite)),
        sampledPeakMiB: memory.peakRss,
        afterMiB: after?.rssMiB,
        killedForRss: memory.killed,
        timeline: memory.timeline,
      },
      slowProbes: [...health.map((s) => ({ ...s, probe: 'healthz' })), ...index.map((s) => ({ ...s, probe: 'index' }))]
        .filter((s) => s.ms > 100)
        .map((s) => ({ probe: s.probe, atMs: Math.round(s.at - start), ms: Math.round(s.ms), status: s.status })),
    };
  } finally {
    await stopChild(ck.child, 10_000);
    healthClient.agent.destroy();
    indexClient.agent.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- report

/** Each run's answer ("413", "8x413", "7x413+400", "> 60 s"), identical ones grouped with their count of runs. */
function answerText(runs, timeoutS) {
  const perRun = runs.map((run) => {
    if (run.timedOut) return `> ${timeoutS} s`;
    const counts = new Map();
    for (const a of run.answers) counts.set(a.status, (counts.get(a.status) ?? 0) + 1);
    return [...counts].map(([status, n]) => (n > 1 ? `${n}x${status}` : String(status))).join('+');
  });
  const groups = new Map();
  for (const text of perRun) groups.set(text, (groups.get(text) ?? 0) + 1);
  if (groups.size === 1) return perRun[0];
  return [...groups].map(([text, n]) => `${text} (${n} run${n > 1 ? 's' : ''})`).join(', ');
}

const range = (values, d = 0) => {
  const finite = values.filter(Number.isFinite);
  return `${fmt(Math.min(...finite), d)}-${fmt(Math.max(...finite), d)}`;
};

function summarise(name, runs, timeoutS) {
  const pick = (f) => runs.map(f);
  // A server killed at the time limit has no VmHWM left to read: its sampled peak stands in.
  const peak = (r) => (Number.isFinite(r.memory.peakMiB) ? r.memory.peakMiB : r.memory.sampledPeakMiB);
  return {
    name,
    answer: answerText(runs, timeoutS),
    detail: runs.flatMap((r) => r.answers).find((a) => a.detail && a.status !== 'timeout')?.detail ?? '',
    durationS: median(pick((r) => r.durationMs / 1000)),
    durationRange: range(
      pick((r) => r.durationMs / 1000),
      2,
    ),
    health: {
      p50: median(pick((r) => r.health.p50)),
      p99: median(pick((r) => r.health.p99)),
      max: median(pick((r) => r.health.max)),
      maxRange: range(pick((r) => r.health.max)),
    },
    index: {
      p50: median(pick((r) => r.index.p50)),
      p99: median(pick((r) => r.index.p99)),
      max: median(pick((r) => r.index.max)),
      maxRange: range(pick((r) => r.index.max)),
    },
    rss: {
      before: median(pick((r) => r.memory.beforeMiB)),
      peak: median(pick(peak)),
      peakRange: range(pick(peak)),
      after: median(pick((r) => r.memory.afterMiB)),
    },
    probesOver100: pick((r) => r.health.over100 + r.index.over100),
    cpuMain: median(pick((r) => r.serverCpu?.mainSeconds)),
    cpuOthers: median(pick((r) => r.serverCpu?.otherThreadsSeconds)),
    afterMax: median(pick((r) => Math.max(r.afterAnswer.health.max, r.afterAnswer.index.max))),
  };
}

/** The report on stdout, from a result (also one read back with --report). */
function report(result) {
  const { settings } = result;
  result.summary = Object.entries(result.runs).map(([name, runs]) => summarise(name, runs, settings.TIMEOUT_S));
  const all = Object.values(result.runs).flat();
  const idle = all.flatMap((r) => [r.idle.health, r.idle.index]);
  const out = [''];
  out.push(
    `cratekeeper ${result.label} (${result.dist}, commit ${result.commit}); ${settings.ROUNDS} rounds, medians over rounds; a fresh server per input; ` +
      `probes at most every ${settings.PROBE_INTERVAL_MS} ms each, one in flight`,
  );
  out.push(
    `at rest (1 s before each input): /healthz p50 ${fmt(median(all.map((r) => r.idle.health.p50)), 2)} ms, p99 ${fmt(median(all.map((r) => r.idle.health.p99)), 2)} ms; ` +
      `index p50 ${fmt(median(all.map((r) => r.idle.index.p50)), 2)} ms, p99 ${fmt(median(all.map((r) => r.idle.index.p99)), 2)} ms; ` +
      `${idle.reduce((n, s) => n + s.over100, 0)} of ${idle.reduce((n, s) => n + s.count, 0)} probes over 100 ms`,
  );
  const head = [
    'input',
    'answer',
    'duration s (range)',
    'healthz p50/p99/max ms',
    'max range',
    'index p50/p99/max ms',
    'max range',
    'RSS MiB before/peak/after',
    'peak range',
    'CPU s main/others',
    'probes >100ms',
    'max 2 s after',
  ];
  const rows = result.summary.map((s) => [
    s.name,
    s.answer,
    `${fmt(s.durationS, 2)} (${s.durationRange})`,
    `${fmt(s.health.p50, 1)}/${fmt(s.health.p99, 1)}/${fmt(s.health.max)}`,
    s.health.maxRange,
    `${fmt(s.index.p50, 1)}/${fmt(s.index.p99, 1)}/${fmt(s.index.max)}`,
    s.index.maxRange,
    `${fmt(s.rss.before)}/${fmt(s.rss.peak)}/${fmt(s.rss.after)}`,
    s.rss.peakRange,
    `${fmt(s.cpuMain, 2)}/${fmt(s.cpuOthers, 2)}`,
    s.probesOver100.join(','),
    fmt(s.afterMax),
  ]);
  out.push(...table(head, rows));
  out.push('');
  for (const s of result.summary) if (s.detail) out.push(`${s.name}: "${s.detail.slice(0, 160)}"`);
  out.push(
    `load average at start ${result.machine.loadAverageAtStart.join(' ')}, at end ${(result.loadAverageAtEnd ?? ['?']).join(' ')} (other work on this machine skews figures)`,
  );
  console.log(out.join('\n'));
}

async function main() {
  const result = {
    benchmark: 'hostile-inputs',
    label: LABEL,
    dist: DIST,
    commit: COMMIT,
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    machine: machine(),
    settings: { ROUNDS, TIMEOUT_S, CONCURRENCY, MAX_RSS_MIB, VERSIONS, README_DEPTH, PROBE_INTERVAL_MS, ONLY },
  };
  log(`measuring ${DIST} (commit ${COMMIT}${result.dirty ? ', with uncommitted changes' : ''}); ${ROUNDS} rounds of ${ONLY.join(', ')}`);
  const template = await prepareTemplate();
  result.manyIndexBytes = template.manyIndexBytes;
  const cases = await buildCases(template);
  result.bodyBytes = Object.fromEntries(cases.map((c) => [c.name, c.bodyBytes]));
  const runs = Object.fromEntries(cases.map((c) => [c.name, []]));
  // Rounds interleave the inputs, so that a busy spell of this shared machine hits all of them.
  for (let round = 1; round <= ROUNDS; round++) {
    for (const kase of cases) {
      const r = await measure(template, kase);
      runs[kase.name].push(r);
      log(
        `round ${round}/${ROUNDS} ${kase.name}: ${r.answers.map((a) => a.status).join(',')} in ${fmt(r.durationMs)} ms; ` +
          `healthz p50/p99/max ${fmt(r.health.p50, 1)}/${fmt(r.health.p99, 1)}/${fmt(r.health.max, 1)} ms (${r.health.count}); ` +
          `index ${fmt(r.index.p50, 1)}/${fmt(r.index.p99, 1)}/${fmt(r.index.max, 1)} ms (${r.index.count}); ` +
          `RSS ${fmt(r.memory.beforeMiB)} -> peak ${fmt(r.memory.peakMiB)} -> ${fmt(r.memory.afterMiB)} MiB; ` +
          `server CPU s main ${fmt(r.serverCpu.mainSeconds, 2)}, others ${fmt(r.serverCpu.otherThreadsSeconds, 2)}; machine ${JSON.stringify(r.cpu)}` +
          (r.answers[0]?.detail ? `; "${r.answers[0].detail.slice(0, 100)}"` : ''),
      );
    }
  }
  result.runs = runs;
  result.loadAverageAtEnd = os.loadavg().map((x) => +x.toFixed(2));
  report(result);

  const file = resultFile(`hostile-inputs-${LABEL}`, result.machine.date);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(ROOT, file)}`);
}

const REPORT = option('report', '');
await runMain(REPORT ? async () => report(JSON.parse(readFileSync(REPORT, 'utf8'))) : main, () => {
  setupClient.agent.destroy();
  hostileClient.agent.destroy();
});
