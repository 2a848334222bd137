// Benchmark of what a cargo user waits for: `cargo generate-lockfile` and `cargo fetch` of a project
// with ~130 real dependencies, through cratekeeper and through nginx serving the same files statically.
//
// Why: the hot-path benchmarks (index-throughput.mjs) measure one file under load; a user sees the
// wall time of cargo's own requests, a few hundred of them with cargo's parallelism and its
// dependency-discovery waves. nginx serving the same bytes is the floor for that wall time.
//
//   * cratekeeper: `serve` (auth required, SQLite, disk blobs; data folder on tmpfs when /dev/shm is
//     usable) holding the closure of tokio, clap, hyper, serde, serde_json and rand from Debian's
//     librust-*-dev packages (optional dependencies included), published through the HTTP API.
//   * nginx: the same index files and .crate files, fetched back from cratekeeper byte for byte,
//     served as a static sparse registry (config.json's `dl` points at nginx's static crate paths;
//     `auth-required` is false, nginx has no auth: the reference's one difference). The gzip form of
//     an index file that cratekeeper sends gzipped is stored beside it for `gzip_static`.
//   * The project depends directly on every crate of the closure (`name = "=version"`), with
//     crates-io replaced by the registry, so its lockfile has one entry per crate.
//   * Each run: a fresh CARGO_HOME (tmpfs), `cargo generate-lockfile`, then `cargo fetch`, timed.
//     --warmup rounds (default 1) are not counted; then --rounds (default 5) rounds, each
//     cratekeeper then nginx (ABAB). Reported: median and range per target and command, the ratio
//     of the medians cratekeeper/nginx, and the median of the per-round ratios. Also, per run, what
//     the server saw: requests and their summed server time (cratekeeper's /metrics; nginx's access
//     log with $request_time), nginx's connection count, and CPU seconds of server and cargo.
//
//   * cargo asks to switch each connection to HTTP/2 (h2c) on plain http; cratekeeper does, nginx
//     cannot, so cargo's requests overlap on cratekeeper and go one after another on nginx.
//     --http1 sets cargo's `http.multiplexing = false` for both: HTTP/1.1 everywhere.
//
// Usage: npm run build && node bench/cargo-vs-nginx.mjs [--rounds 5] [--warmup 1] [--profile] [--http1]
// Needs root the first time (apt-get installs nginx and the librust-*-dev packages when missing).
// Loopback only; every process it starts is stopped at the end, also on failure or Ctrl-C. Writes
// bench/results/cargo-vs-nginx-<time>.json. Figures, not asserts.

import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import {
  ROOT,
  aptInstall,
  cpuShare,
  cpuTimes,
  fmt,
  freePort,
  indexPath,
  log,
  loopbackClient,
  machine,
  median,
  option,
  resultFile,
  runMain,
  setLogTag,
  profilesSince,
  startCratekeeper,
  startNginx,
  stopChild,
  table,
  tempDir,
  threadCpuTimes,
  which,
} from './lib.mjs';

// The data folder, nginx's root and every CARGO_HOME go to tmpfs when it is usable: lib's tempDir
// reads TMPDIR (through os.tmpdir()) on each call.
const SHM = '/dev/shm';
const onTmpfs = (() => {
  try {
    accessSync(SHM, constants.W_OK);
    return statSync(SHM).isDirectory();
  } catch {
    return false;
  }
})();
if (onTmpfs) process.env.TMPDIR = SHM;

const dist = (p) => import(path.join(ROOT, 'dist', p));
const { readDebianCrates, closureOf } = await dist('test/support/debian-crates.js');
const { ensureDebianPackages } = await dist('test/support/apt.js');
const { publishAll } = await dist('test/support/mirror-upstreams.js');

const ROUNDS = Math.max(1, Math.min(option('rounds', 5), 50));
const WARMUP = Math.min(option('warmup', 1), 10);
// --profile: after publishing, cratekeeper is restarted on the same data under `node --cpu-prof`, so
// the profile (bench/results/) holds the cargo runs only.
const PROFILE = option('profile', false);
const HTTP1 = option('http1', false);
const ROOTS = ['tokio', 'clap', 'hyper', 'serde', 'serde_json', 'rand'];
const PACKAGES = ROOTS.map((r) => `librust-${r.replace(/_/g, '-')}-dev`);
const REGISTRY = 'bench'; // the registry's name in cargo's configuration: CARGO_REGISTRIES_BENCH_*
const CARGO_TIMEOUT_MS = 600_000;

setLogTag('cargo-vs-nginx');
const { request } = loopbackClient({ maxSockets: 8 });

// ---------------------------------------------------------------- tools

function ensureTools() {
  if (!which('nginx')) {
    log('installing nginx (Debian package)');
    aptInstall(['nginx']);
  }
  const nginx = which('nginx');
  if (!nginx) throw new Error('nginx not found after install');
  // The toolchain's cargo itself, not rustup's proxy (which re-reads its settings on every call).
  // `cargo fetch` runs `rustc -vV`: the toolchain's rustc too, as cargo's HOME is a fresh folder.
  const toolchain = (tool) => {
    const found = spawnSync('rustup', ['which', tool], { encoding: 'utf8' });
    return found.status === 0 ? found.stdout.trim() : which(tool);
  };
  const cargo = toolchain('cargo');
  const rustc = toolchain('rustc');
  if (!cargo || !rustc) throw new Error('cargo or rustc not found');
  return {
    nginx,
    cargo,
    rustc,
    nginxVersion: spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim(),
    cargoVersion: spawnSync(cargo, ['-V'], { encoding: 'utf8' }).stdout.trim(),
  };
}

// ---------------------------------------------------------------- the static copy for nginx

// Fetches every index file and every .crate back from cratekeeper (with its token) and writes them
// where nginx serves them: index/<path> (+ .gz when cratekeeper sent it gzipped), crates/<name>/<version>.crate.
async function exportStaticRegistry(ck, names, www, nginxUrl) {
  const auth = { authorization: ck.token };
  let crates = 0;
  let gzipped = 0;
  for (const name of names) {
    const rel = path.join('index', indexPath(name));
    const res = await request(`${ck.url}/${rel}`, { headers: { ...auth, 'accept-encoding': 'gzip' } });
    if (res.status !== 200) throw new Error(`index ${name}: ${res.status} ${res.body.toString().slice(0, 300)}`);
    const isGzip = res.headers['content-encoding'] === 'gzip';
    const body = isGzip ? gunzipSync(res.body) : res.body;
    mkdirSync(path.dirname(path.join(www, rel)), { recursive: true });
    writeFileSync(path.join(www, rel), body);
    if (isGzip) {
      writeFileSync(path.join(www, `${rel}.gz`), res.body);
      gzipped++;
    }
    for (const line of body.toString('utf8').split('\n').filter(Boolean)) {
      const { name: crate, vers, cksum } = JSON.parse(line);
      const dl = await request(`${ck.url}/api/v1/crates/${crate}/${vers}/download`, { headers: auth });
      if (dl.status !== 200) throw new Error(`download ${crate} ${vers}: ${dl.status} ${dl.body.toString().slice(0, 300)}`);
      if (createHash('sha256').update(dl.body).digest('hex') !== cksum) throw new Error(`download ${crate} ${vers}: checksum differs`);
      const dest = path.join(www, 'crates', crate, `${vers}.crate`);
      mkdirSync(path.dirname(dest), { recursive: true });
      writeFileSync(dest, dl.body);
      crates++;
    }
  }
  writeFileSync(
    path.join(www, 'index', 'config.json'),
    JSON.stringify({ dl: `${nginxUrl}/crates/{crate}/{version}.crate`, 'auth-required': false }),
  );
  spawnSync('chmod', ['-R', 'a+rX', www]); // nginx's workers may run as an unprivileged user
  return { indexFiles: names.length, gzipped, crates };
}

// ---------------------------------------------------------------- nginx

// The access log (one line per request, unbuffered, on tmpfs) records the connection number and
// $request_time for the per-run figures; index files are sent from their .gz beside them when the
// client accepts gzip, as cratekeeper sends them.
function startStaticRegistry(nginxBin, www, port) {
  return startNginx(nginxBin, www, {
    port,
    types: 'application/json json;',
    defaultType: 'application/octet-stream',
    locations: 'location /index/ { default_type text/plain; gzip_static on; }\n    location /crates/ { }',
    logFormat: '$connection $request_time $status $body_bytes_sent $request_uri',
  });
}

// nginx's workers are children of the master: their pids, from /proc.
function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

const processCpuSeconds = (pid) => [...threadCpuTimes(pid).values()].reduce((sum, t) => sum + t.seconds, 0);
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
// CPU time of this process's waited-for children (cutime + cstime): grows by each cargo run's CPU.
function waitedChildrenCpuSeconds() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

// ---------------------------------------------------------------- what the servers saw

// cratekeeper's /metrics: count and summed seconds of each route's requests, and the connections
// switched to HTTP/2, to diff around a command.
async function scrapeRequests(ck) {
  const res = await request(`${ck.url}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics: ${res.status}`);
  const byRoute = {};
  let http2Upgrades = 0;
  for (const line of res.body.toString('utf8').split('\n')) {
    const upgrades = /^cratekeeper_http2_upgrades_total (\S+)$/.exec(line);
    if (upgrades) http2Upgrades = Number(upgrades[1]);
    const m = /^cratekeeper_http_request_duration_seconds_(sum|count)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const route = /route="([^"]*)"/.exec(m[2])?.[1] ?? '?';
    if (route === '/metrics') continue;
    const r = (byRoute[route] ??= { count: 0, seconds: 0 });
    if (m[1] === 'count') r.count += Number(m[3]);
    else r.seconds += Number(m[3]);
  }
  return { byRoute, http2Upgrades };
}

function diffRequests(before, after) {
  const requests = {};
  for (const [route, a] of Object.entries(after.byRoute)) {
    const b = before.byRoute[route] ?? { count: 0, seconds: 0 };
    if (a.count > b.count) requests[route] = { count: a.count - b.count, ms: +((a.seconds - b.seconds) * 1000).toFixed(1) };
  }
  return { requests, http2Connections: after.http2Upgrades - before.http2Upgrades };
}

// The access-log lines written since `offset`, summarised by kind (index file or crate).
function nginxRequestsSince(accessLog, offset) {
  const text = readFileSync(accessLog).subarray(offset).toString('utf8');
  const out = {};
  const connections = new Set();
  for (const line of text.split('\n').filter(Boolean)) {
    const [conn, seconds, , , uri] = line.split(' ');
    connections.add(conn);
    const kind = uri.startsWith('/crates/') ? '/crates/*' : '/index/*';
    const r = (out[kind] ??= { count: 0, ms: 0 });
    r.count++;
    r.ms = +(r.ms + Number(seconds) * 1000).toFixed(1);
  }
  return { requests: out, connections: connections.size };
}

const fileSize = (f) => (existsSync(f) ? statSync(f).size : 0);

// ---------------------------------------------------------------- cargo

function runCargo(cargoBin, args, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cargoBin, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    runningCargo.add(child);
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-20_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), CARGO_TIMEOUT_MS);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      clearTimeout(timer);
      runningCargo.delete(child);
      if (code !== 0) return reject(new Error(`cargo ${args.join(' ')} failed (${code ?? signal}):\n${stderr.slice(-3000)}`));
      resolve(ms);
    });
  });
}
const runningCargo = new Set();

function writeProject(dir, crates) {
  // One dependency per crate name (of two versions of a name, the later in the closure).
  const deps = [...new Map(crates.map((c) => [c.name, c])).values()].map((c) => `${c.name} = "=${c.version}"`);
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(
    path.join(dir, 'Cargo.toml'),
    ['[package]', 'name = "bench-app"', 'version = "0.0.0"', 'edition = "2021"', 'publish = false', '', '[dependencies]', ...deps, ''].join(
      '\n',
    ),
  );
  writeFileSync(path.join(dir, 'src', 'main.rs'), 'fn main() {}\n');
  return deps.length;
}

// One run: a fresh CARGO_HOME (and HOME) on tmpfs, the lockfile removed, then the two commands.
async function cargoRun(tools, target, project) {
  const home = tempDir('ck-cargo-home-');
  const cargoHome = path.join(home, 'cargo');
  mkdirSync(cargoHome);
  writeFileSync(
    path.join(cargoHome, 'config.toml'),
    `[source.crates-io]\nreplace-with = "${REGISTRY}"\n\n[registries.${REGISTRY}]\ncredential-provider = "cargo:token"\n\n[net]\nretry = 0\n`,
  );
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    CARGO_HOME: cargoHome,
    RUSTC: tools.rustc,
    RUSTUP_HOME: process.env.RUSTUP_HOME ?? path.join(os.homedir(), '.rustup'),
    CARGO_TERM_COLOR: 'never',
    CARGO_NET_RETRY: '0',
    NO_PROXY: '127.0.0.1,localhost,::1',
    ...(HTTP1 ? { CARGO_HTTP_MULTIPLEXING: 'false' } : {}),
    [`CARGO_REGISTRIES_${REGISTRY.toUpperCase()}_INDEX`]: `sparse+${target.indexUrl}`,
    ...(target.token ? { [`CARGO_REGISTRIES_${REGISTRY.toUpperCase()}_TOKEN`]: target.token } : {}),
  };
  rmSync(path.join(project, 'Cargo.lock'), { force: true });

  const serverCpu = () => target.pids().reduce((sum, pid) => sum + processCpuSeconds(pid), 0);
  const run = { target: target.name };
  for (const [command, args] of [
    ['lock', ['generate-lockfile']],
    ['fetch', ['fetch']],
  ]) {
    const before = await target.seen.before();
    const cpu0 = { server: serverCpu(), cargo: waitedChildrenCpuSeconds(), machine: cpuTimes() };
    const ms = await runCargo(tools.cargo, args, { cwd: project, env });
    const cpu1 = { server: serverCpu(), cargo: waitedChildrenCpuSeconds(), machine: cpuTimes() };
    run[command] = {
      ms,
      serverCpuS: +(cpu1.server - cpu0.server).toFixed(2),
      cargoCpuS: +(cpu1.cargo - cpu0.cargo).toFixed(2),
      machineCpu: cpuShare(cpu0.machine, cpu1.machine),
      ...(await target.seen.after(before)),
    };
  }
  const lock = readFileSync(path.join(project, 'Cargo.lock'), 'utf8');
  run.lockPackages = (lock.match(/^source = "registry\+/gm) ?? []).length;
  const cacheRoot = path.join(cargoHome, 'registry', 'cache');
  run.cratesFetched = existsSync(cacheRoot)
    ? readdirSync(cacheRoot).reduce((n, d) => n + readdirSync(path.join(cacheRoot, d)).filter((f) => f.endsWith('.crate')).length, 0)
    : 0;
  run.lockfile = lock;
  rmSync(home, { recursive: true, force: true });
  return run;
}

// ---------------------------------------------------------------- the report

const seconds = (ms) => fmt(ms / 1000, 2);

function summarise(runs, targets) {
  const summary = {};
  for (const command of ['lock', 'fetch']) {
    summary[command] = {};
    for (const t of targets) {
      const ms = runs.filter((r) => r.target === t).map((r) => r[command].ms);
      summary[command][t] = { medianMs: median(ms), minMs: Math.min(...ms), maxMs: Math.max(...ms), runsMs: ms };
    }
    const [a, b] = targets;
    summary[command].ratioOfMedians = summary[command][a].medianMs / summary[command][b].medianMs;
    const pairs = summary[command][a].runsMs.map((x, i) => x / summary[command][b].runsMs[i]);
    summary[command].medianPairRatio = median(pairs);
    summary[command].pairRatios = pairs.map((x) => +x.toFixed(3));
  }
  return summary;
}

// Median over runs of what the server saw per command: requests, summed server ms, CPU seconds.
function serverSide(runs, target, command) {
  const rs = runs.filter((r) => r.target === target).map((r) => r[command]);
  const routes = [...new Set(rs.flatMap((r) => Object.keys(r.requests)))];
  const parts = routes.map((route) => {
    const count = median(rs.map((r) => r.requests[route]?.count ?? 0));
    const msSum = median(rs.map((r) => r.requests[route]?.ms ?? 0));
    return `${route} ${count} req, ${fmt(msSum, 0)} ms`;
  });
  const conns =
    rs[0].connections === undefined
      ? `, ${median(rs.map((r) => r.http2Connections))} connections switched to HTTP/2`
      : `, ${median(rs.map((r) => r.connections))} connections`;
  return `${parts.join('; ')}${conns}; server CPU ${fmt(median(rs.map((r) => r.serverCpuS)), 2)} s, cargo CPU ${fmt(median(rs.map((r) => r.cargoCpuS)), 2)} s, machine idle ${median(rs.map((r) => r.machineCpu.idle))} %`;
}

// ---------------------------------------------------------------- main

async function main() {
  const tools = ensureTools();
  ensureDebianPackages(PACKAGES);
  const crates = closureOf(ROOTS, readDebianCrates(), { optional: true });
  const names = [...new Set(crates.map((c) => c.name))];
  log(`corpus: ${crates.length} crate versions, ${names.length} names (closure of ${ROOTS.join(', ')}, optional dependencies included)`);
  log(`temporary folders (data, nginx root, CARGO_HOME) under ${onTmpfs ? SHM : 'the OS temporary folder (/dev/shm not usable)'}`);

  const dataDir = tempDir('ck-cargo-data-');
  let ck = await startCratekeeper(dataDir);
  log(`cratekeeper at ${ck.url}; publishing`);
  const t0 = Date.now();
  await publishAll(ck.url, ck.token, crates);
  log(`published in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const www = tempDir('ck-cargo-www-');
  chmodSync(www, 0o755);
  const port = await freePort();
  const exported = await exportStaticRegistry(ck, names, www, `http://127.0.0.1:${port}`);
  log(`static copy: ${exported.indexFiles} index files (${exported.gzipped} also gzipped), ${exported.crates} .crate files`);
  if (PROFILE) {
    await stopChild(ck.child);
    ck = { ...(await startCratekeeper(dataDir, { fresh: false, profile: true })), token: ck.token };
  }
  const profileStart = Date.now();
  const nginx = await startStaticRegistry(tools.nginx, www, port);
  log(`nginx at ${nginx.url}`);

  const project = path.join(tempDir('ck-cargo-project-'), 'bench-app');
  const dependencies = writeProject(project, crates);

  const targets = [
    {
      name: 'cratekeeper',
      indexUrl: `${ck.url}/index/`,
      token: ck.token,
      pids: () => [ck.child.pid],
      seen: { before: () => scrapeRequests(ck), after: async (before) => diffRequests(before, await scrapeRequests(ck)) },
    },
    {
      name: 'nginx',
      indexUrl: `${nginx.url}/index/`,
      token: undefined,
      pids: () => [nginx.child.pid, ...childPids(nginx.child.pid)],
      seen: { before: async () => fileSize(nginx.accessLog), after: async (offset) => nginxRequestsSince(nginx.accessLog, offset) },
    },
  ];

  const info = { ...machine(), cargo: tools.cargoVersion, nginx: tools.nginxVersion, tmpfs: onTmpfs };
  log(`machine: ${JSON.stringify(info)}`);
  const warmupRuns = [];
  for (let w = 0; w < WARMUP; w++) {
    for (const t of targets) {
      const r = await cargoRun(tools, t, project);
      warmupRuns.push(r);
      log(`warm-up ${t.name}: lock ${seconds(r.lock.ms)} s, fetch ${seconds(r.fetch.ms)} s`);
    }
  }
  const runs = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of targets) {
      const r = await cargoRun(tools, t, project);
      runs.push(r);
      log(
        `round ${round + 1}/${ROUNDS} ${t.name}: lock ${seconds(r.lock.ms)} s, fetch ${seconds(r.fetch.ms)} s (${r.lockPackages} packages locked, ${r.cratesFetched} fetched)`,
      );
    }
  }

  // Both targets must have given cargo the same answer, and every crate.
  const lockfiles = new Set(runs.map((r) => r.lockfile));
  if (lockfiles.size !== 1) throw new Error(`the runs produced ${lockfiles.size} different Cargo.lock files`);
  for (const r of runs)
    if (r.cratesFetched !== r.lockPackages) throw new Error(`${r.target}: fetched ${r.cratesFetched} of ${r.lockPackages} crates`);

  const names2 = targets.map((t) => t.name);
  const summary = summarise(runs, names2);
  const result = {
    machine: info,
    command: `node bench/cargo-vs-nginx.mjs --rounds ${ROUNDS} --warmup ${WARMUP}${HTTP1 ? ' --http1' : ''}`,
    corpus: { roots: ROOTS, crateVersions: crates.length, names: names.length, dependencies, ...exported },
    rounds: ROUNDS,
    warmup: WARMUP,
    summary,
    runs: runs.map(({ lockfile: _lockfile, ...r }) => r),
    warmupRuns: warmupRuns.map(({ lockfile: _lockfile, ...r }) => r),
  };
  if (PROFILE) {
    await stopChild(ck.child); // writes the profile
    result.profiles = profilesSince(profileStart);
  }
  const file = resultFile('cargo-vs-nginx', info.date);
  writeFileSync(file, JSON.stringify(result, null, 2));

  const rows = [];
  for (const [command, label] of [
    ['lock', 'cargo generate-lockfile'],
    ['fetch', 'cargo fetch'],
  ]) {
    const s = summary[command];
    for (const t of names2)
      rows.push([
        `${label}, ${t}`,
        `${seconds(s[t].medianMs)} s`,
        `${seconds(s[t].minMs)}-${seconds(s[t].maxMs)} s`,
        t === names2[0] ? `${fmt(s.ratioOfMedians, 3)}x` : '',
        t === names2[0] ? `${fmt(s.medianPairRatio, 3)}x` : '',
      ]);
  }
  console.log(table(['command, target', 'median', 'range', 'ratio ck/nginx', 'median pair ratio'], rows).join('\n'));
  console.log('');
  for (const command of ['lock', 'fetch'])
    for (const t of names2) console.log(`${command === 'lock' ? 'generate-lockfile' : 'fetch'}, ${t}: ${serverSide(runs, t, command)}`);
  console.log(
    `\n${runs[0].lockPackages} packages in Cargo.lock, ${ROUNDS} rounds (ABAB) after ${WARMUP} warm-up round(s); result in ${path.relative(ROOT, file)}`,
  );
}

await runMain(main, () => {
  for (const c of runningCargo) c.kill('SIGKILL');
});
