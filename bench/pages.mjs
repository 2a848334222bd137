// Throughput and latency of the server-rendered web pages, with the sparse-index hot path as the
// reference in the same run. See bench/README.md ("Web pages").
//
// What it does:
//   1. Starts `node dist/cli/main.js serve` on a temporary data folder and publishes, through the
//      publish API, ~200 crates with 1-4 versions each, one with 60 (~560 versions): names from common
//      words, descriptions and keywords (for search), dependencies on earlier crates, and for two
//      crates in three a 10-20 KB Markdown README inside the .crate (headings, prose, lists, Rust
//      code blocks, a table, relative and absolute links, badges). It also downloads a few hundred
//      versions so that the crate pages' download charts have data.
//   2. Signs in like a browser (GET /sign-in, POST /me/token-sign-in with the form's CSRF token and
//      the admin's token) and keeps the `ck_session` cookie.
//   3. Runs wrk (2 threads, 8 connections, 10 s, after a 1 s warm-up) with that cookie on: the home
//      page, a search page, a crate page (its README cached after the first render), the page of a
//      crate with 60 versions, a version page of the first crate, which has a ~20 KB README (warm:
//      rendered before), and, as the reference, the first crate's sparse-index file with the token in
//      `Authorization`. Rounds interleave them.
//   4. Cold version pages (the README read from the .crate and rendered on this request): rendered
//      READMEs stay cached in the process, so each round restarts the server on the same data, renders
//      10 pages one at a time (JIT warm-up; their latencies are reported), then fetches each of the
//      other ~300 version pages with a README exactly once, 8 at a time, from a Node client (a wrk
//      run would run out of cold pages within seconds and go on measuring warm ones).
//
// Usage: npm run build && node bench/pages.mjs [--crates 200] [--duration 10] [--warmup 1]
//          [--rounds 2] [--connections 8] [--only crate,index] [--profile] [--dist DIR]
//   --only      runs only the named scenarios (home, search, crate, crate-many, version-warm,
//               version-cold, index)
//   --profile   after publishing, restarts the server under `node --cpu-prof` on the same data (so the
//               profile holds the measured requests, not the publishing) and writes the .cpuprofile
//               to bench/results/; summarise it with `node bench/profile-summary.mjs FILE`.
//   --dist DIR  runs the cratekeeper built in DIR (DIR/dist/...) instead of this tree's; e.g. a
//               `git archive` of a commit built with `npx tsc -p .`, to measure a fixed version.
//
// Everything listens on 127.0.0.1 with OS-chosen ports; every process it starts is stopped at the
// end, also on failure or Ctrl-C, and its temporary folders are removed. Needs wrk (installs
// Debian's when missing). JSON goes to bench/results/pages-<time>.json. Figures are measured here,
// never asserted: this is not a test.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');

function option(name, fallback) {
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
const CRATES = Math.max(20, Math.min(option('crates', 200), 2000));
const DURATION_S = Math.max(1, Math.min(option('duration', 10), 60));
const WARMUP_S = Math.min(option('warmup', 1), 10);
const ROUNDS = Math.max(1, Math.min(option('rounds', 2), 5));
const CONNECTIONS = Math.max(1, Math.min(option('connections', 8), 256));
const THREADS = Math.min(2, CONNECTIONS);
const PROFILE = option('profile', false);
const DIST_ROOT = path.resolve(option('dist', ROOT));
const SCENARIO_NAMES = ['home', 'search', 'crate', 'crate-many', 'version-warm', 'version-cold', 'index'];
const ONLY = option('only', SCENARIO_NAMES.join(',')).split(',');
for (const name of ONLY) if (!SCENARIO_NAMES.includes(name)) throw new Error(`--only: unknown scenario ${name} (known: ${SCENARIO_NAMES.join(', ')})`);
const SEARCH_QUERY = 'http';
const DOWNLOADS = 400;
const COLD_PROBE = 10;
const MANY_VERSIONS = 60;

const { encodePublishBody } = await import(path.join(DIST_ROOT, 'dist/src/domain/publish-body.js'));

const log = (...args) => console.error('[pages]', ...args);

// ---------------------------------------------------------------- processes we own (stopped on exit)

const children = new Set();
const tempDirs = [];

function track(child, name) {
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!child.benchStopping && name !== 'wrk') log(`${name} (pid ${child.pid}) exited unexpectedly: code ${code}, signal ${signal}`);
  });
  return child;
}

async function stopChild(child, timeoutMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.benchStopping = true;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

function killAllNow() {
  for (const c of children) {
    c.benchStopping = true;
    c.kill('SIGKILL');
  }
}
process.once('SIGINT', () => { killAllNow(); process.exit(130); });
process.once('SIGTERM', () => { killAllNow(); process.exit(143); });
process.once('exit', killAllNow);

function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// ---------------------------------------------------------------- tools

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin'])) {
    const p = path.join(dir, cmd);
    if (dir && existsSync(p)) return p;
  }
  return undefined;
}

function ensureWrk() {
  if (!which('wrk')) {
    log('installing wrk (Debian package)');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env, timeout: 600_000 });
    if (run(['install', '-y', 'wrk']).status !== 0) {
      run(['update']);
      if (run(['install', '-y', 'wrk']).status !== 0) throw new Error('could not install wrk');
    }
  }
  const wrk = which('wrk');
  if (!wrk) throw new Error('wrk not found after install');
  return { wrk, version: spawnSync(wrk, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].trim() };
}

function machine() {
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

function gitCommit(dir) {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// Machine-wide CPU split (from /proc/stat) over a run: was the machine saturated by other work?
function cpuTimes() {
  const f = spawnSync('cat', ['/proc/stat'], { encoding: 'utf8' }).stdout ?? '';
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f.split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { user: user + nice, system: system + irq + softirq, idle: idle + iowait, steal: steal ?? 0 };
}
function cpuShare(a, b) {
  const d = Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
  const total = Object.values(d).reduce((x, y) => x + y, 0) || 1;
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, Math.round((100 * v) / total)]));
}

// ---------------------------------------------------------------- HTTP client (keep-alive, loopback only)

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

function request(url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback URL ${url}`);
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, headers, agent, timeout: 30_000 }, (res) => {
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

const setCookies = (res) => [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
const cookieNamed = (res, name) => setCookies(res).find((c) => c.startsWith(`${name}=`) && c !== `${name}=`);

// ---------------------------------------------------------------- cratekeeper

async function startCratekeeper(dataDir, { profile = false, fresh = true } = {}) {
  const nodeArgs = [];
  if (profile) {
    mkdirSync(RESULTS, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${RESULTS}`);
  }
  const child = track(
    spawn(
      process.execPath,
      [...nodeArgs, path.join(DIST_ROOT, 'dist/cli/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--workers', '1'],
      // Publishing ~560 versions in seconds from one user: lift the publish rate limit.
      { cwd: DIST_ROOT, env: { ...process.env, CRATEKEEPER_LOG__LEVEL: 'warn', CRATEKEEPER_RATE_LIMITS__PUBLISH_PER_MINUTE: '1000000' }, stdio: ['ignore', 'pipe', 'pipe'] },
    ),
    'cratekeeper',
  );
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-10_000); });
  child.once('exit', () => { if (!child.benchStopping && stderr) log(`cratekeeper stderr (tail):\n${stderr.slice(-3000)}`); });
  let stdout = '';
  const { url, token } = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cratekeeper did not start within 30 s:\n${stderr}`)), 30_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`cratekeeper exited (${code}):\n${stderr}`)); });
    child.stdout.on('data', (d) => {
      stdout += d;
      const url = /cratekeeper listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      const token = /first token \(shown only this once\): (ckt_\S+)/.exec(stdout)?.[1];
      if (url && (token || !fresh)) { clearTimeout(timer); resolve({ url, token }); }
    });
  });
  return { child, url, token };
}

function indexPath(name) {
  const n = name.toLowerCase();
  if (n.length === 1) return `1/${n}`;
  if (n.length === 2) return `2/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}

// ---------------------------------------------------------------- generated data (seeded, so every run publishes the same)

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(20261123);
const pick = (list) => list[Math.floor(rand() * list.length)];
const between = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const WORDS = [
  'async', 'http', 'serde', 'json', 'tokio', 'parse', 'log', 'time', 'crypto', 'net', 'test', 'util', 'derive', 'macro',
  'config', 'cli', 'sql', 'cache', 'queue', 'stream', 'buffer', 'codec', 'proto', 'grpc', 'tls', 'hash', 'rand', 'image',
  'audio', 'text', 'regex', 'file', 'path', 'env', 'error', 'trace', 'metrics', 'pool', 'sync', 'channel', 'actor', 'web',
];
const PROSE = (
  'the crate provides a small and fast implementation of the protocol with zero copy parsing where possible ' +
  'it supports both blocking and asynchronous use and works on stable Rust without unsafe code in the public API ' +
  'errors carry enough context to be useful and every public type implements Debug and Clone where that makes sense ' +
  'configuration is read from the environment or from a file and can be overridden per call ' +
  'benchmarks show that the common path allocates once per request and the rare path never panics'
).split(' ');

function sentence() {
  const words = Array.from({ length: between(8, 20) }, () => pick(PROSE));
  if (rand() < 0.3) words[between(0, words.length - 1)] = `\`${pick(WORDS)}::${pick(WORDS)}()\``;
  if (rand() < 0.2) words[between(0, words.length - 1)] = `**${pick(PROSE)}**`;
  if (rand() < 0.15) words[between(0, words.length - 1)] = `[${pick(WORDS)}](https://docs.rs/${pick(WORDS)})`;
  const s = words.join(' ');
  return s[0].toUpperCase() + s.slice(1) + '.';
}
const paragraph = () => Array.from({ length: between(2, 6) }, sentence).join(' ');

function rustBlock(name) {
  const ident = name.replace(/-/g, '_');
  const lines = ['```rust', `use ${ident}::{Client, Config};`, '', 'fn main() -> Result<(), Box<dyn std::error::Error>> {'];
  for (let i = 0, n = between(3, 12); i < n; i++) lines.push(`    let ${pick(WORDS)}_${i} = Client::new(Config::default()).${pick(WORDS)}(${between(1, 999)})?;`);
  lines.push('    Ok(())', '}', '```');
  return lines.join('\n');
}

/** A Markdown README of about `targetBytes` bytes, shaped like a real crate's. */
function readme(name, targetBytes) {
  const parts = [
    `# ${name}`,
    `[![crates.io](https://img.shields.io/crates/v/${name}.svg)](https://crates.io/crates/${name}) ` +
      `[![docs](https://docs.rs/${name}/badge.svg)](https://docs.rs/${name}) [![license](https://img.shields.io/badge/license-MIT-blue.svg)](LICENSE)`,
    paragraph(),
    '## Table of contents',
    ['Installation', 'Usage', 'Features', 'Performance', 'License'].map((s) => `- [${s}](#${s.toLowerCase()})`).join('\n'),
    '## Installation',
    '```toml\n[dependencies]\n' + `${name} = "0.3"\n` + '```',
  ];
  let size = parts.join('\n\n').length;
  let section = 0;
  while (size < targetBytes) {
    const chunk = [];
    switch (section++ % 5) {
      case 0: chunk.push(`## ${pick(['Usage', 'Examples', 'Design', 'Performance', 'Safety', 'Compatibility'])}`, paragraph(), rustBlock(name)); break;
      case 1: chunk.push(`### ${pick(PROSE)} ${pick(PROSE)}`, paragraph(), paragraph()); break;
      case 2: chunk.push(Array.from({ length: between(3, 8) }, () => `- ${sentence()}`).join('\n')); break;
      case 3: {
        const rows = Array.from({ length: between(3, 8) }, () => `| \`${pick(WORDS)}\` | ${pick(['yes', 'no', 'optional'])} | ${sentence()} |`);
        chunk.push('| feature | default | what it does |\n|---|---|---|\n' + rows.join('\n'));
        break;
      }
      default: chunk.push(`> ${sentence()}`, `See [the guide](docs/guide.md), [examples](examples/) and ![diagram](docs/diagram.png).`, paragraph());
    }
    const text = chunk.join('\n\n');
    parts.push(text);
    size += text.length + 2;
  }
  parts.push('## License', 'Licensed under either of Apache License, Version 2.0 or MIT license at your option.');
  return parts.join('\n\n') + '\n';
}

/** The crates to publish: names, versions, dependencies, README sizes. Crate 0 is the one measured. */
function plan() {
  const names = new Set();
  const crates = [];
  for (let i = 0; i < CRATES; i++) {
    let name = i === 0 ? 'http-readme-big' : i === 1 ? 'http-many-versions' : `${pick(WORDS)}-${pick(WORDS)}`;
    if (names.has(name) || name.split('-')[0] === name.split('-')[1]) name = `${name}-${i}`;
    names.add(name);
    const versionCount = i === 0 ? 4 : i === 1 ? MANY_VERSIONS : 1 + (i % 4);
    const readmeBytes = i <= 1 ? 20_000 : i % 3 === 2 ? 0 : between(10_000, 20_000);
    // Dependencies only on earlier crates (published first), skewed towards the first ones.
    const deps = [];
    for (let d = 0, n = i <= 1 ? 0 : between(0, Math.min(4, i)); d < n; d++) {
      const dep = crates[Math.floor(i * rand() ** 3)].name;
      if (!deps.includes(dep) && dep !== 'http-readme-big') deps.push(dep);
    }
    crates.push({ name, versions: Array.from({ length: versionCount }, (_, v) => `0.${v + 1}.0`), readmeBytes, deps });
  }
  return crates;
}

async function crateFile(name, vers, readmeText) {
  const p = pack();
  const chunks = [];
  p.on('data', (c) => chunks.push(c));
  const done = new Promise((r, j) => { p.on('end', r); p.on('error', j); });
  const dir = `${name}-${vers}`;
  const entry = (file, text) => new Promise((r, j) => p.entry({ name: `${dir}/${file}`, mtime: new Date(0) }, text, (e) => (e ? j(e) : r())));
  await entry('Cargo.toml', `[package]\nname = "${name}"\nversion = "${vers}"\nedition = "2021"\nlicense = "MIT"\n${readmeText ? 'readme = "README.md"\n' : ''}`);
  await entry('src/lib.rs', `//! ${name} ${vers}\npub fn answer() -> u32 { 42 }\n`);
  if (readmeText) await entry('README.md', readmeText);
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

function metadata(c, vers, readmeText) {
  return {
    name: c.name, vers,
    deps: c.deps.map((d) => ({
      name: d, version_req: '>=0.1', features: [], optional: false, default_features: true,
      target: null, kind: 'normal', registry: null,
    })),
    features: { default: ['std'], std: [] },
    authors: ['Bench <bench@example.invalid>'],
    description: `${c.name.replace(/-/g, ' ')}: ${sentence()}`,
    documentation: `https://docs.rs/${c.name}`, homepage: null,
    readme: readmeText ?? null, readme_file: readmeText ? 'README.md' : null,
    keywords: c.name.split('-').slice(0, 2), categories: [], license: 'MIT', license_file: null,
    repository: `https://github.com/bench-org/${c.name}`,
    badges: {}, links: null, rust_version: null,
  };
}

async function populate(ck, crates) {
  const t0 = performance.now();
  let versions = 0;
  let bytes = 0;
  for (const c of crates) {
    for (const vers of c.versions) {
      const text = c.readmeBytes > 0 ? readme(c.name, c.readmeBytes) : undefined;
      const body = encodePublishBody(metadata(c, vers, text), await crateFile(c.name, vers, text));
      const res = await request(`${ck.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: ck.token, 'content-length': body.length }, body });
      if (res.status !== 200) throw new Error(`publish ${c.name}@${vers}: ${res.status} ${res.body.toString('utf8').slice(0, 500)}`);
      versions++;
      bytes += body.length;
    }
  }
  // Downloads, so that the crate pages' download charts and counts have data.
  for (let i = 0; i < DOWNLOADS; i++) {
    const c = i % 4 === 0 ? crates[0] : pick(crates);
    const res = await request(`${ck.url}/api/v1/crates/${c.name}/${pick(c.versions)}/download`, { headers: { authorization: ck.token } });
    if (res.status !== 200) throw new Error(`download ${c.name}: ${res.status}`);
  }
  return { crates: crates.length, versions, publishBodyBytes: bytes, withReadme: crates.filter((c) => c.readmeBytes > 0).length, downloads: DOWNLOADS, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
}

// ---------------------------------------------------------------- browser session

async function signIn(ck) {
  const form = await request(`${ck.url}/sign-in`);
  const login = cookieNamed(form, 'ck_login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body.toString('utf8'))?.[1];
  if (form.status !== 200 || !login || !csrf) throw new Error(`sign-in form: ${form.status}, cookie ${Boolean(login)}, csrf ${Boolean(csrf)}`);
  const body = new URLSearchParams({ csrf, token: ck.token }).toString();
  const done = await request(`${ck.url}/me/token-sign-in`, {
    method: 'POST',
    headers: { cookie: login, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    body,
  });
  const session = cookieNamed(done, 'ck_session');
  if (done.status !== 303 || !session) throw new Error(`token sign-in: ${done.status} ${done.body.toString('utf8').slice(0, 300)}`);
  return session;
}

// ---------------------------------------------------------------- wrk

// wrk's `done` hook reports the figures as JSON.
const WRK_LUA = `
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.stdev, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

function runWrk(wrkBin, luaFile, url, headers, seconds) {
  const args = ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--timeout', '10s', '-s', luaFile];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = track(spawn(wrkBin, args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'wrk');
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
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

// One request with wrk's headers: the page must be the page (200, not a redirect to sign-in).
async function check(url, headers, mustContain) {
  const res = await request(url, { headers });
  const text = res.body.toString('utf8');
  if (res.status !== 200) throw new Error(`${url}: expected 200, got ${res.status} ${res.headers.location ?? ''}`);
  for (const s of mustContain) if (!text.includes(s)) throw new Error(`${url}: the response lacks ${JSON.stringify(s)}`);
  return { status: res.status, bytes: res.body.length, contentType: res.headers['content-type'] ?? null };
}

// Every path once, CONNECTIONS at a time over keep-alive connections; figures shaped like runWrk's.
async function fetchAllOnce(base, paths, headers) {
  const pool = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies = [];
  const errors = { connect: 0, read: 0, write: 0, status: 0, timeout: 0 };
  let bytes = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < paths.length) {
      const p = paths[next++];
      const t = performance.now();
      const res = await new Promise((resolve, reject) => {
        const req = http.request(`${base}${p}`, { headers, agent: pool, timeout: 30_000 }, (r) => {
          let n = 0;
          r.on('data', (c) => { n += c.length; });
          r.on('end', () => resolve({ status: r.statusCode, n }));
          r.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`timeout: ${p}`)));
        req.on('error', reject);
        req.end();
      }).catch(() => ({ status: 0, n: 0 }));
      latencies.push((performance.now() - t) * 1000);
      bytes += res.n;
      if (res.status === 0) errors.read++;
      else if (res.status !== 200) errors.status++;
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const duration_us = (performance.now() - t0) * 1000;
  pool.destroy();
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]);
  return {
    requests: paths.length, duration_us: Math.round(duration_us), bytes, errors,
    latency_us: { mean: latencies.reduce((a, b) => a + b, 0) / latencies.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Math.round(sorted.at(-1)) },
    rps: paths.length / (duration_us / 1e6), bytesPerResponse: bytes / paths.length, client: 'node',
  };
}

// ---------------------------------------------------------------- main

const fmt = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : '-');
function ratioRange(rounds, indexRounds) {
  const ratios = rounds.map((r, i) => (100 * r.rps) / indexRounds[i].rps).sort((a, b) => a - b);
  return ratios.length === 1 ? `${fmt(ratios[0], 1)} %` : `${fmt(ratios[0], 1)}-${fmt(ratios.at(-1), 1)} %`;
}
const ms = (us) => fmt(us / 1000, 2);

async function main() {
  const startedAt = Date.now();
  const tools = ensureWrk();
  const result = {
    benchmark: 'pages',
    machine: machine(),
    cratekeeper: { dist: DIST_ROOT, commit: gitCommit(DIST_ROOT) },
    tools: { wrk: tools.version },
    settings: { CRATES, DURATION_S, WARMUP_S, ROUNDS, CONNECTIONS, THREADS, PROFILE, ONLY, SEARCH_QUERY },
  };
  log(`machine: ${result.machine.nproc} cores, ${result.machine.cpuModel}, node ${result.machine.node}, load ${result.machine.loadAverageAtStart.join(' ')}`);

  const dataDir = tempDir('ck-pages-data-');
  let ck = await startCratekeeper(dataDir);
  const token = ck.token;
  log(`cratekeeper at ${ck.url}; publishing ${CRATES} crates`);
  const crates = plan();
  result.data = await populate(ck, crates);
  log(`published ${result.data.versions} versions of ${result.data.crates} crates (${result.data.withReadme} with a README) in ${result.data.seconds} s`);
  if (PROFILE) {
    await stopChild(ck.child, 30_000);
    ck = await startCratekeeper(dataDir, { profile: true, fresh: false });
    ck.token = token;
    log(`restarted under --cpu-prof at ${ck.url}`);
  }

  const cookie = await signIn(ck);
  const page = { Cookie: cookie };
  const big = crates[0];
  const many = crates[1];
  const warmVersion = big.versions[1];
  // Cold pages: versions with a README that nothing else shows (not the two measured crates', nor the
  // newest version of the crate the cold check shows), in a seeded random order. Each round restarts
  // the server, so every round fetches the same list cold.
  const checked = crates.find((c) => c.readmeBytes > 0 && c !== big && c !== many);
  const coldAll = crates
    .filter((c) => c.readmeBytes > 0 && c !== big && c !== many)
    .flatMap((c) => c.versions.filter((v) => c !== checked || v !== c.versions.at(-1)).map((v) => `/crates/${c.name}/${v}`))
    .map((p) => [rand(), p])
    .sort((a, b) => a[0] - b[0])
    .map(([, p]) => p);

  const plainLua = path.join(tempDir('ck-pages-wrk-'), 'report.lua');
  writeFileSync(plainLua, WRK_LUA);
  const scenarios = [
    { name: 'home', what: 'GET / (home)', path: '/', headers: page, mustContain: ['<html'] },
    { name: 'search', what: `GET /search?q=${SEARCH_QUERY}`, path: `/search?q=${SEARCH_QUERY}`, headers: page, mustContain: [`/crates/`] },
    { name: 'crate', what: `GET /crates/${big.name} (README cached)`, path: `/crates/${big.name}`, headers: page, mustContain: ['id="readme"', '<svg'] },
    { name: 'crate-many', what: `GET /crates/${many.name} (${many.versions.length} versions, README cached)`, path: `/crates/${many.name}`, headers: page, mustContain: ['id="readme"'] },
    { name: 'version-warm', what: `GET /crates/${big.name}/${warmVersion} (README cached)`, path: `/crates/${big.name}/${warmVersion}`, headers: page, mustContain: ['id="readme"'] },
    { name: 'version-cold', what: 'GET /crates/NAME/VERSION, each a first render of a 10-20 KB README (fresh server)', path: '/', headers: page, cold: true },
    { name: 'index', what: `GET /index/${indexPath(big.name)} (Authorization, reference)`, path: `/index/${indexPath(big.name)}`, headers: { Authorization: token } },
  ].filter((s) => ONLY.includes(s.name));

  result.checks = {};
  for (const s of scenarios) {
    if (s.cold) {
      // Checked on a page outside the cold list, so that the list stays cold for the first round.
      result.checks[s.name] = await check(`${ck.url}/crates/${checked.name}`, page, ['id="readme"']);
    } else {
      result.checks[s.name] = await check(`${ck.url}${s.path}`, s.headers, s.mustContain ?? []);
    }
    log(`check ${s.name}: ${result.checks[s.name].bytes} bytes`);
  }

  const runs = Object.fromEntries(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of scenarios) {
      let probe;
      if (s.cold) {
        // The rendered READMEs stay cached in the process: a fresh server makes every page cold again.
        await stopChild(ck.child, 30_000);
        ck = { ...(await startCratekeeper(dataDir, { profile: PROFILE, fresh: false })), token };
        // A few first renders one at a time: they warm the JIT for the code the run measures, and say
        // what one first render costs on an otherwise idle server.
        probe = [];
        for (const p of coldAll.slice(0, COLD_PROBE)) {
          const t = performance.now();
          const res = await request(`${ck.url}${p}`, { headers: page });
          if (res.status !== 200) throw new Error(`${p}: ${res.status}`);
          probe.push(performance.now() - t);
        }
      } else if (WARMUP_S > 0) {
        await runWrk(tools.wrk, plainLua, `${ck.url}${s.path}`, s.headers, WARMUP_S);
      }
      const before = cpuTimes();
      // The cold pages run out long before a wrk run would end, and past that they are warm: they are
      // fetched by a Node client instead, over CONNECTIONS keep-alive connections, each page once.
      const r = s.cold
        ? await fetchAllOnce(ck.url, coldAll.slice(COLD_PROBE), page)
        : await runWrk(tools.wrk, plainLua, `${ck.url}${s.path}`, s.headers, DURATION_S);
      r.cpu = cpuShare(before, cpuTimes());
      r.load1 = +os.loadavg()[0].toFixed(2);
      if (s.cold) {
        r.probeMs = probe.map((x) => +x.toFixed(1));
      }
      runs[s.name].push(r);
      log(`round ${round}/${ROUNDS} ${s.name}: ${fmt(r.rps)} req/s, p50 ${ms(r.latency_us.p50)} ms, p99 ${ms(r.latency_us.p99)} ms, ` +
        `${fmt(r.bytesPerResponse)} B/resp, errors ${JSON.stringify(r.errors)}, machine cpu ${JSON.stringify(r.cpu)}` +
        (s.cold ? `, ${r.requests} distinct pages in ${fmt(r.duration_us / 1e6, 1)} s; one at a time before that: ${r.probeMs.join(', ')} ms` : ''));
    }
  }

  result.scenarios = {};
  for (const s of scenarios) {
    const sorted = [...runs[s.name]].sort((a, b) => a.rps - b.rps);
    const median = sorted[Math.floor((sorted.length - 1) / 2)];
    result.scenarios[s.name] = { what: s.what, ...median, rpsMin: sorted[0].rps, rpsMax: sorted.at(-1).rps, rounds: runs[s.name], check: result.checks[s.name] };
  }

  await stopChild(ck.child, 30_000);
  if (PROFILE) {
    result.profile = readdirSync(RESULTS)
      .filter((f) => f.endsWith('.cpuprofile') && statSync(path.join(RESULTS, f)).mtimeMs >= startedAt)
      .map((f) => path.join('bench/results', f));
    log(`CPU profile: ${result.profile.join(', ')} (summarise with: node bench/profile-summary.mjs FILE)`);
  }

  // ---- report
  const index = result.scenarios.index;
  const rows = Object.entries(result.scenarios).map(([name, r]) => [
    name, fmt(r.rps), `${fmt(r.rpsMin)}-${fmt(r.rpsMax)}`, ms(r.latency_us.p50), ms(r.latency_us.p99), fmt(r.bytesPerResponse),
    index && name !== 'index' ? ratioRange(r.rounds, index.rounds) : '',
    String(Object.values(r.errors).reduce((a, b) => a + b, 0)),
    `${r.cpu.user}/${r.cpu.system}/${r.cpu.idle}`,
  ]);
  const head = ['scenario', 'req/s', `range (${ROUNDS} rounds)`, 'p50 ms', 'p99 ms', 'bytes/resp', 'vs index (per round)', 'errors', 'cpu us/sy/id %'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [''];
  out.push(`cratekeeper ${result.cratekeeper.commit ?? ''} (${DIST_ROOT}); ${result.data.crates} crates, ${result.data.versions} versions, ` +
    `${result.data.withReadme} crates with a 10-20 KB README; wrk ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION_S} s a run, ` +
    `median of ${ROUNDS} round(s) (of an even count, the slower middle one); "vs index": req/s over the index's in the same round`);
  for (const s of scenarios) out.push(`  ${s.name.padEnd(12)} ${s.what}`);
  out.push(line(head));
  out.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out.push(line(r));
  const cold = result.scenarios['version-cold'];
  if (cold) {
    out.push(`version-cold: each page fetched once by a Node client over ${CONNECTIONS} connections: ` +
      `${cold.rounds.map((r) => `${r.requests} pages in ${fmt(r.duration_us / 1e6, 1)} s`).join('; ')}`);
    const probes = cold.rounds.flatMap((r) => r.probeMs).sort((a, b) => a - b);
    out.push(`  one first render at a time (${probes.length} pages, right after a restart): median ${fmt(probes[Math.floor(probes.length / 2)], 1)} ms, ` +
      `min ${fmt(probes[0], 1)}, max ${fmt(probes.at(-1), 1)} ms`);
  }
  out.push(`machine: ${result.machine.nproc} cores (${result.machine.cpuModel}), node ${result.machine.node}, ${tools.version}; load average at start ` +
    `${result.machine.loadAverageAtStart.join(' ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  out.push(`total time ${fmt((Date.now() - startedAt) / 1000, 0)} s`);
  console.log(out.join('\n'));

  mkdirSync(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `pages-${result.machine.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`results: ${path.relative(ROOT, file)}`);
}

try {
  await main();
} catch (error) {
  console.error('[pages] failed:', error?.stack ?? error);
  process.exitCode = 1;
} finally {
  agent.destroy();
  await Promise.all([...children].map((c) => stopChild(c)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}
