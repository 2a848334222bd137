// Helpers shared by the benchmark scripts (index-throughput.mjs, pages.mjs, size.mjs): flags, progress
// lines, the processes and temporary folders a script owns, a loopback HTTP client, starting
// cratekeeper, running wrk, the machine's CPU split, and small report helpers.
//
// Importing this module installs SIGINT/SIGTERM/exit handlers that SIGKILL every process started
// through `track`, so a failed or interrupted run leaves nothing behind.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

/** The repository root, and bench/results/ where the scripts write their JSON. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS = path.join(ROOT, 'bench', 'results');

// ---------------------------------------------------------------- flags and progress lines

/** `--name VALUE` from the command line: a number, a string or (for a boolean fallback) presence. */
export function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  if (typeof fallback === 'boolean') return true;
  const raw = process.argv[i + 1];
  if (typeof fallback === 'string') {
    if (raw === undefined || raw.startsWith('--')) throw new Error(`--${name} expects a value`);
    return raw;
  }
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} expects a number`);
  return value;
}

let logTag = 'bench';
/** Sets the `[tag]` that `log` puts before each line (one per script). */
export function setLogTag(tag) {
  logTag = tag;
}
/** A progress line on stderr (stdout is kept for the report). */
export const log = (...args) => console.error(`[${logTag}]`, ...args);

/** Runs a script's main(): reports a failure with exit code 1, and always closes and cleans up. */
export async function runMain(main, close = () => {}) {
  try {
    await main();
  } catch (error) {
    log('failed:', error?.stack ?? error);
    process.exitCode = 1;
  } finally {
    close();
    await stopAll();
    removeTempDirs();
  }
}

// ---------------------------------------------------------------- processes and folders we own

const children = new Set();
const tempDirs = [];
const QUIET_EXITS = new Set(['wrk', 'generate']); // processes that are expected to end by themselves

/** Registers a child process to stop at the end; logs if it exits without being asked to. */
export function track(child, name) {
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!child.benchStopping && !QUIET_EXITS.has(name))
      log(`${name} (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal}`);
  });
  return child;
}

/** Stops one child with SIGTERM, and SIGKILL after `timeoutMs`. */
export async function stopChild(child, timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.benchStopping = true;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every tracked child that is still running. */
export async function stopAll() {
  await Promise.all([...children].map((c) => stopChild(c)));
}

function killAllNow() {
  for (const c of children) {
    c.benchStopping = true;
    c.kill('SIGKILL');
  }
}
process.once('SIGINT', () => {
  killAllNow();
  process.exit(130);
});
process.once('SIGTERM', () => {
  killAllNow();
  process.exit(143);
});
process.once('exit', killAllNow);

/** A new folder under the OS temporary folder, removed by `removeTempDirs`. */
export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Removes every folder made by `tempDir`. */
export function removeTempDirs() {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------- tools

/** The full path of a command on PATH (or in /usr/sbin, /usr/bin), or undefined. */
export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const p = path.join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

/** Installs Debian packages with apt-get, running `apt-get update` once if the first try fails. */
export function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env, timeout: 600_000 });
  if (run(['install', '-y', ...packages]).status === 0) return;
  log('apt-get install failed; running apt-get update and trying again');
  run(['update']);
  if (run(['install', '-y', ...packages]).status !== 0) throw new Error(`could not install ${packages.join(' and ')}`);
}

/** Cores, CPU model, memory, kernel, load average, Node version and date: recorded with each result. */
export function machine() {
  const cpuinfo = existsSync('/proc/cpuinfo') ? (spawnSync('cat', ['/proc/cpuinfo'], { encoding: 'utf8' }).stdout ?? '') : '';
  return {
    nproc: Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || os.cpus().length,
    cpuModel: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memGiB: +(os.totalmem() / 1024 ** 3).toFixed(1),
    kernel: os.release(),
    loadAverageAtStart: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** The machine's cumulative CPU time (user, system, idle, steal) from /proc/stat: was a run's machine saturated, was time stolen? */
export function cpuTimes() {
  const f = spawnSync('cat', ['/proc/stat'], { encoding: 'utf8' }).stdout ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { user: user + nice, system: system + irq + softirq, idle: idle + iowait, steal: steal ?? 0 };
}
/** The CPU split between two `cpuTimes()` readings, in whole percent. */
export function cpuShare(a, b) {
  const d = Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
  const total = Object.values(d).reduce((x, y) => x + y, 0) || 1;
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Math.round((100 * v) / total)]));
}

// ---------------------------------------------------------------- HTTP client (keep-alive, loopback only)

/** A keep-alive client for 127.0.0.1 URLs: `request(url, { method, headers, body })` gives { status, headers, body }. */
export function loopbackClient({ maxSockets, timeoutMs = 30_000 }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  function request(url, { method = 'GET', headers = {}, body } = {}) {
    const u = new URL(url);
    if (u.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback URL ${url}`);
    return new Promise((resolve, reject) => {
      const req = http.request(u, { method, headers, agent, timeout: timeoutMs }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
      req.on('error', reject);
      req.end(body);
    });
  }
  return { agent, request };
}

// ---------------------------------------------------------------- nginx and wrk

/** nginx and wrk (Debian's packages, installed when missing), with their versions. */
export function ensureNginxAndWrk() {
  if (!which('nginx') || !which('wrk')) {
    log('installing nginx and wrk (Debian packages)');
    aptInstall(['nginx', 'wrk']);
  }
  const nginx = which('nginx');
  const wrk = which('wrk');
  if (!nginx || !wrk) throw new Error('nginx or wrk not found after install');
  const nginxVersion = spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim();
  const wrkVersion = spawnSync(wrk, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].trim();
  return { nginx, wrk, nginxVersion, wrkVersion };
}

/** A TCP port on 127.0.0.1 that nothing listens on just now (for servers that need one given, as nginx does). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * nginx serving `www` as static files on 127.0.0.1: the reference the benchmarks measure
 * cratekeeper against. Its own config, prefix and pid file, `daemon off`. Options:
 * `workerProcesses` ('auto' or a number); `port` (one chosen here when absent); `defaultType`;
 * `types` (an nginx `types { }` body); `locations` (the server's location blocks); `logFormat` (an
 * access log, one unbuffered line per request, in `accessLog`; none without it).
 * Resolves to { child, url, accessLog }.
 */
export async function startNginx(
  nginxBin,
  www,
  { workerProcesses = 'auto', port, defaultType = 'text/plain', types, locations = 'location / { }', logFormat } = {},
) {
  const prefix = tempDir('ck-bench-nginx-');
  chmodSync(prefix, 0o755);
  port ??= await freePort();
  const accessLog = logFormat === undefined ? undefined : path.join(prefix, 'access.log');
  const conf = path.join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `
daemon off;
worker_processes ${workerProcesses};
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  ${types === undefined ? '' : `types { ${types} }`}
  default_type ${defaultType};
  ${accessLog === undefined ? 'access_log off;' : `log_format bench '${logFormat}';\n  access_log ${accessLog} bench;`}
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    ${locations}
  }
}
`,
  );
  const child = track(
    spawn(nginxBin, ['-p', prefix, '-c', conf, '-e', `${prefix}/error.log`], { stdio: ['ignore', 'ignore', 'pipe'] }),
    'nginx',
  );
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const url = `http://127.0.0.1:${port}`;
  const { agent, request } = loopbackClient({ maxSockets: 1, timeoutMs: 1000 });
  try {
    for (let i = 0; i < 100; i++) {
      if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
      try {
        await request(`${url}/`);
        return { child, url, accessLog };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    agent.destroy();
  }
  throw new Error(`nginx did not answer within 10 s: ${stderr}`);
}

// ---------------------------------------------------------------- cratekeeper

/**
 * Starts `DIST/bin/cratekeeper serve` (the command as installed, with this Node first on PATH) on
 * 127.0.0.1 and an OS-chosen port; resolves to { child, url, token } once it prints its URL (and, when
 * `fresh`, the first admin token it prints on a new data folder). `workers` adds `--workers N`; `env`
 * adds variables. `profile` runs `node --cpu-prof DIST/dist/cli/main.js` instead (node refuses that flag
 * in NODE_OPTIONS), writing into bench/results/: without the launcher's malloc setting, which moves
 * memory, not CPU. So does a DIST from before bin/cratekeeper existed.
 */
export async function startCratekeeper(
  dataDir,
  { dist = ROOT, workers, profile = false, fresh = true, env = {}, startTimeoutMs = 30_000, logStderr = true } = {},
) {
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir];
  if (workers !== undefined) args.push('--workers', String(workers));
  // The benchmarks publish hundreds of crates a minute from one user: lift the publish rate limit.
  const childEnv = { ...process.env, CRATEKEEPER_LOG__LEVEL: 'warn', CRATEKEEPER_RATE_LIMITS__PUBLISH_PER_MINUTE: '1000000', ...env };
  const launcher = path.join(dist, 'bin/cratekeeper');
  let command = launcher;
  if (profile || !existsSync(launcher)) {
    command = process.execPath;
    args.unshift(path.join(dist, 'dist/cli/main.js'));
    if (profile) {
      mkdirSync(RESULTS, { recursive: true });
      args.unshift('--cpu-prof', `--cpu-prof-dir=${RESULTS}`);
    }
  } else {
    childEnv.PATH = `${path.dirname(process.execPath)}${path.delimiter}${childEnv.PATH ?? ''}`;
  }
  const child = track(spawn(command, args, { cwd: dist, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] }), 'cratekeeper');
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-10_000);
  });
  if (logStderr)
    child.once('exit', () => {
      if (!child.benchStopping && stderr) log(`cratekeeper stderr (tail):\n${stderr.slice(-3000)}`);
    });
  let stdout = '';
  const { url, token } = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`cratekeeper did not start within ${startTimeoutMs / 1000} s:\n${stderr}`)),
      startTimeoutMs,
    );
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cratekeeper exited (${code}):\n${stderr}`));
    });
    child.stdout.on('data', (d) => {
      stdout += d;
      const url = /cratekeeper listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      const token = /first token \(shown only this once\): (ckt_\S+)/.exec(stdout)?.[1];
      if (url && (token || !fresh)) {
        clearTimeout(timer);
        resolve({ url, token });
      }
    });
  });
  return { child, url, token };
}

/**
 * The URL a started reference server prints (`listening on http://127.0.0.1:PORT`, as
 * bare-node-server.mjs does), once it has; rejects with the tail of its stderr when it exits first
 * or prints none within `timeoutMs`.
 */
export function listeningUrl(child, what, timeoutMs) {
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-5000)));
  let stdout = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s:\n${stderr}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${stderr}`));
    });
    child.stdout.on('data', (d) => {
      stdout += d;
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      if (url) {
        clearTimeout(timer);
        resolve(url);
      }
    });
  });
}

/** The sparse-index path of a crate name (`1/a`, `3/a/abc`, `se/rd/serde`). */
export function indexPath(name) {
  const n = name.toLowerCase();
  if (n.length === 1) return `1/${n}`;
  if (n.length === 2) return `2/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

/** A gzipped .crate: Cargo.toml, src/lib.rs (`libRs`, by default a doc line and one function) and an optional README.md. */
export async function crateFile(name, vers, { readme, libRs = `//! ${name} ${vers}\npub fn answer() -> u32 { 42 }\n` } = {}) {
  const p = pack();
  const chunks = [];
  p.on('data', (c) => chunks.push(c));
  const done = new Promise((r, j) => {
    p.on('end', r);
    p.on('error', j);
  });
  const dir = `${name}-${vers}`;
  const entry = (file, text) =>
    new Promise((r, j) => p.entry({ name: `${dir}/${file}`, mtime: new Date(0) }, text, (e) => (e ? j(e) : r())));
  await entry(
    'Cargo.toml',
    `[package]\nname = "${name}"\nversion = "${vers}"\nedition = "2021"\nlicense = "MIT"\n${readme ? 'readme = "README.md"\n' : ''}`,
  );
  await entry('src/lib.rs', libRs);
  if (readme) await entry('README.md', readme);
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

/** Cargo's publish metadata: `fields` over empty defaults; `deps` as [name, version_req] pairs. */
export function publishMetadata(name, vers, deps, fields = {}) {
  return {
    name,
    vers,
    deps: deps.map(([dep, req]) => ({
      name: dep,
      version_req: req,
      features: [],
      optional: false,
      default_features: true,
      target: null,
      kind: 'normal',
      registry: null,
    })),
    features: {},
    authors: [],
    description: null,
    documentation: null,
    homepage: null,
    readme: null,
    readme_file: null,
    keywords: [],
    categories: [],
    license: 'MIT',
    license_file: null,
    repository: null,
    badges: {},
    links: null,
    rust_version: null,
    ...fields,
  };
}

/** Cargo's publish body: the metadata's JSON and the .crate, each after its length (u32, little-endian). */
export function publishBody(metadata, crate) {
  const json = Buffer.from(JSON.stringify(metadata));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(json.length);
  const crateHead = Buffer.alloc(4);
  crateHead.writeUInt32LE(crate.length);
  return Buffer.concat([head, json, crateHead, crate]);
}

/** A process's resident memory now (VmRSS) and its peak since it started (VmHWM), in MiB; undefined once it has exited. */
export function processMemory(pid) {
  let status;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (field) => Number(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  const memory = { rssMiB: kib('VmRSS') / 1024, hwmMiB: kib('VmHWM') / 1024 };
  return Number.isFinite(memory.rssMiB) ? memory : undefined; // a zombie has no memory lines
}

/**
 * CPU time (user + system, seconds) of each thread of a process, from /proc/<pid>/task/<tid>/stat:
 * Map tid -> { name, seconds }; the main thread's tid is the pid. Empty once the process has exited.
 */
export function threadCpuTimes(pid) {
  const times = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return times;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
      times.set(Number(tid), { name, seconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return times;
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The .cpuprofile files written to bench/results/ since `startedAt` (ms), logged with how to read them. */
export function profilesSince(startedAt) {
  const files = readdirSync(RESULTS)
    .filter((f) => f.endsWith('.cpuprofile') && statSync(path.join(RESULTS, f)).mtimeMs >= startedAt)
    .map((f) => path.join('bench/results', f));
  log(`CPU profile: ${files.join(', ')} (summarise with: node bench/profile-summary.mjs FILE)`);
  return files;
}

// ---------------------------------------------------------------- wrk

// wrk's `done` hook reports the figures as one `WRK_RESULT {json}` line, which runWrk reads. A script
// that also needs a `request` function (e.g. random paths) puts it before this text in the same file.
export const WRK_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

/** One wrk run with a WRK_LUA-reporting script: its report plus rps and bytesPerResponse. Killed `graceS` after it should end. */
export function runWrk(wrkBin, luaFile, url, headers, seconds, { threads, connections, timeout, graceS = 30 }) {
  const args = ['-t', String(threads), '-c', String(connections), '-d', `${seconds}s`, '--timeout', timeout, '-s', luaFile];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = track(spawn(wrkBin, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'wrk');
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + graceS) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${err}${out}`));
      const r = JSON.parse(line.slice('WRK_RESULT '.length));
      r.rps = r.requests / (r.duration_us / 1e6);
      r.bytesPerResponse = r.bytes / Math.max(1, r.requests);
      resolve(r);
    });
  });
}

// ---------------------------------------------------------------- figures and the report

/** The p-th percentile (0-100) of an ascending array, nearest-rank; NaN for an empty one. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The median of numbers (of an even count, the mean of the middle two); NaN for none. */
export function median(values) {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A scenario's rounds summarised: its median round (by req/s; of an even count the slower middle one) and the req/s range. */
export function medianRound(rounds, check) {
  const sorted = [...rounds].sort((a, b) => a.rps - b.rps);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  return { ...median, rpsMin: sorted[0].rps, rpsMax: sorted.at(-1).rps, rounds, check };
}

/** A number with `d` decimals, or '-' when it is not finite. */
export const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
/** Microseconds as milliseconds with two decimals. */
export const ms = (us) => fmt(us / 1000, 2);

/** A plain-text table: the head, a rule and the rows; first column left-aligned, the others right-aligned. */
export function table(head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)];
}

/** The path of bench/results/NAME-DATE.json (the folder made if needed), DATE an ISO date made file-safe. */
export function resultFile(name, isoDate) {
  mkdirSync(RESULTS, { recursive: true });
  return path.join(RESULTS, `${name}-${isoDate.replace(/[:.]/g, '-')}.json`);
}
