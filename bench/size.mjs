// cratekeeper at crates.io size: generates a registry (generate-registry.mjs) on SQLite and on
// PostgreSQL, then measures on this machine: start-up time, RSS, index-file throughput and p99 over
// many crates with a cold and a warm cache (wrk), search latency, RSS after touching many index
// files, and publish latency. See bench/README.md ("Registry size").
//
//   npm run build
//   node bench/size.mjs [--db sqlite,postgres] [--crates 150000] [--duration 10] [--touch 50000] [--publishes 300]
//
// Everything listens on 127.0.0.1 with OS-chosen ports; every process it starts is stopped at the
// end, also on failure or Ctrl-C, and its temporary folders are removed. JSON goes to bench/results/.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const { encodePublishBody } = await import(path.join(ROOT, 'dist/src/domain/publish-body.js'));

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : process.argv[i + 1];
}
const DBS = option('db', 'sqlite,postgres').split(',');
const CRATES = Math.min(Number(option('crates', '150000')), 1_000_000);
const DURATION_S = Math.min(Number(option('duration', '10')), 60);
const TOUCH = Math.min(Number(option('touch', '50000')), 200_000);
const PUBLISHES = Math.min(Number(option('publishes', '300')), 2000);
const INDEX_CACHE_BYTES = 64 * 1024 ** 2; // the default cache.index_bytes, set explicitly
const WARM_SET = 2000;
const SEARCH_RUNS = 30;
const QUERIES = ['serde', 'tokio', 'http', 'se', ''];

const log = (...a) => console.error('[size]', ...a);

// ---------------------------------------------------------------- processes we own
const children = new Set();
const tempDirs = [];
const cleanups = [];
function track(child, name) {
  children.add(child);
  child.once('exit', (code, signal) => {
    children.delete(child);
    if (!child.benchStopping && name !== 'wrk' && name !== 'generate') log(`${name} (pid ${child.pid}) exited: code ${code}, signal ${signal}`);
  });
  return child;
}
async function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.benchStopping = true;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
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

// ---------------------------------------------------------------- HTTP (keep-alive, loopback only)
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
function request(url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback URL ${url}`);
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, headers, agent, timeout: 60_000 }, (res) => {
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
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const stats = (times) => {
  const s = [...times].sort((a, b) => a - b);
  return { n: s.length, p50: +percentile(s, 50).toFixed(2), p99: +percentile(s, 99).toFixed(2), max: +s.at(-1).toFixed(2) };
};
function indexPath(name) {
  const n = name.toLowerCase();
  if (n.length === 1) return `1/${n}`;
  if (n.length === 2) return `2/${n}`;
  if (n.length === 3) return `3/${n[0]}/${n}`;
  return `${n.slice(0, 2)}/${n.slice(2, 4)}/${n}`;
}
const rssMiB = (pid) => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? +(Number(m[1]) / 1024).toFixed(1) : NaN;
};
const duMiB = (p) => +(Number(spawnSync('du', ['-sb', p], { encoding: 'utf8' }).stdout.split('\t')[0]) / 1024 ** 2).toFixed(0);

// ---------------------------------------------------------------- steps
function generate(dataDir, databaseUrl) {
  const args = [path.join(ROOT, 'bench/generate-registry.mjs'), '--data-dir', dataDir, '--crates', String(CRATES)];
  if (databaseUrl) args.push('--database-url', databaseUrl);
  return new Promise((resolve, reject) => {
    const child = track(spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }), 'generate');
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 40 * 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`generate-registry.mjs failed (${code})`));
      resolve(JSON.parse(out));
    });
  });
}

async function startServer(dataDir, databaseUrl) {
  const env = {
    ...process.env,
    CRATEKEEPER_LOG__LEVEL: 'warn',
    CRATEKEEPER_CACHE__INDEX_BYTES: String(INDEX_CACHE_BYTES),
    CRATEKEEPER_RATE_LIMITS__PUBLISH_PER_MINUTE: '1000000',
  };
  if (databaseUrl) env.CRATEKEEPER_DATABASE__URL = databaseUrl;
  const t0 = performance.now();
  const child = track(
    spawn(process.execPath, [path.join(ROOT, 'dist/cli/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    'cratekeeper',
  );
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-10_000); });
  let stdout = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cratekeeper did not start within 120 s:\n${stderr}`)), 120_000);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`cratekeeper exited (${code}):\n${stderr}`)); });
    child.stdout.on('data', (d) => {
      stdout += d;
      const u = /cratekeeper listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
      if (u) { clearTimeout(timer); resolve(u); }
    });
  });
  return { child, url, startupMs: +(performance.now() - t0).toFixed(0) };
}

async function scrapeCache(ck, token) {
  const res = await request(`${ck.url}/metrics`, { headers: { authorization: token } });
  const body = res.body.toString();
  const value = (result) => Number(new RegExp(`cratekeeper_index_cache_requests_total\\{result="${result}"\\} (\\S+)`).exec(body)?.[1] ?? NaN);
  return { hits: value('hit'), misses: value('miss') };
}

async function heapUsedMiB(ck, token) {
  const res = await request(`${ck.url}/metrics`, { headers: { authorization: token } });
  const m = /^nodejs_heap_size_used_bytes (\S+)/m.exec(res.body.toString());
  return m ? +(Number(m[1]) / 1024 ** 2).toFixed(1) : NaN;
}

function runWrk(url, pathsFile, token, seconds) {
  const dir = tempDir('ck-size-wrk-');
  const lua = path.join(dir, 'paths.lua');
  writeFileSync(
    lua,
    `local paths = {}
for line in io.lines("${pathsFile}") do paths[#paths + 1] = line end
function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1000000))
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRK_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"non2xx":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`,
  );
  const args = ['-t', '2', '-c', '64', '-d', `${seconds}s`, '--timeout', '10s', '-s', lua, '-H', `Authorization: ${token}`, url];
  return new Promise((resolve, reject) => {
    const child = track(spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] }), 'wrk');
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('WRK_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (${code}): ${err}${out}`));
      const r = JSON.parse(line.slice('WRK_RESULT '.length));
      resolve({
        rps: Math.round(r.requests / (r.duration_us / 1e6)),
        p50ms: +(r.p50 / 1000).toFixed(2),
        p99ms: +(r.p99 / 1000).toFixed(2),
        maxMs: +(r.max / 1000).toFixed(1),
        errors: r.errors,
        non2xx: r.non2xx,
        bytesPerResponse: Math.round(r.bytes / Math.max(1, r.requests)),
      });
    });
  });
}

async function indexLoad(ck, token, names, label, seconds) {
  const dir = tempDir('ck-size-paths-');
  const file = path.join(dir, 'paths.txt');
  writeFileSync(file, names.map((n) => `/index/${indexPath(n)}`).join('\n') + '\n');
  const before = await scrapeCache(ck, token);
  const r = await runWrk(ck.url, file, token, seconds);
  const after = await scrapeCache(ck, token);
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  r.cacheHitRatio = +(hits / Math.max(1, hits + misses)).toFixed(3);
  r.distinctCrates = names.length;
  log(`${label}: ${r.rps} req/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, hit ratio ${r.cacheHitRatio}, errors ${r.errors}, non-2xx ${r.non2xx}`);
  return r;
}

async function touchAll(ck, token, names) {
  const t0 = performance.now();
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      const res = await request(`${ck.url}/index/${indexPath(name)}`, { headers: { authorization: token, 'accept-encoding': 'gzip' } });
      if (res.status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return { files: names.length, failures, seconds: +((performance.now() - t0) / 1000).toFixed(1) };
}

async function searchLatency(ck, token) {
  const out = {};
  for (const q of QUERIES) {
    const times = [];
    let total;
    for (let i = 0; i < SEARCH_RUNS; i++) {
      const t0 = performance.now();
      const res = await request(`${ck.url}/api/v1/crates?q=${encodeURIComponent(q)}&per_page=10`, { headers: { authorization: token } });
      times.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`search ${q}: ${res.status} ${res.body.toString().slice(0, 300)}`);
      total = JSON.parse(res.body.toString()).meta?.total;
    }
    out[q === '' ? '(empty)' : q] = { ...stats(times), total };
    log(`search "${q}": p50 ${out[q === '' ? '(empty)' : q].p50} ms, p99 ${out[q === '' ? '(empty)' : q].p99} ms, ${total} matches`);
  }
  return out;
}

async function crateFile(name, vers) {
  const p = pack();
  const chunks = [];
  p.on('data', (c) => chunks.push(c));
  const done = new Promise((r, j) => { p.on('end', r); p.on('error', j); });
  const dir = `${name}-${vers}`;
  const entry = (file, text) => new Promise((r, j) => p.entry({ name: `${dir}/${file}`, mtime: new Date(0) }, text, (e) => (e ? j(e) : r())));
  await entry('Cargo.toml', `[package]\nname = "${name}"\nversion = "${vers}"\nedition = "2021"\nlicense = "MIT"\n`);
  await entry('src/lib.rs', `pub fn answer() -> u32 { 42 }\n`);
  p.finalize();
  await done;
  return gzipSync(Buffer.concat(chunks));
}

async function publishLatency(ck, token, names) {
  // New versions of existing generated crates (their index files are invalidated each time), each
  // depending on one other existing crate. Bodies are built before the clock starts.
  const bodies = [];
  for (let i = 0; i < PUBLISHES; i++) {
    const name = names[(i * 7919) % names.length];
    const dep = names[(i * 104_729 + 1) % names.length];
    const meta = {
      name, vers: `900.0.${i}`,
      deps: [{ name: dep, version_req: '*', features: [], optional: false, default_features: true, target: null, kind: 'normal', registry: null }],
      features: {}, authors: [], description: 'size benchmark publish', documentation: null, homepage: null, readme: null, readme_file: null,
      keywords: [], categories: [], license: 'MIT', license_file: null, repository: null, badges: {}, links: null, rust_version: null,
    };
    bodies.push(encodePublishBody(meta, await crateFile(name, meta.vers)));
  }
  const times = [];
  for (const body of bodies) {
    const t0 = performance.now();
    const res = await request(`${ck.url}/api/v1/crates/new`, { method: 'PUT', headers: { authorization: token, 'content-length': body.length }, body });
    times.push(performance.now() - t0);
    if (res.status !== 200) throw new Error(`publish: ${res.status} ${res.body.toString().slice(0, 300)}`);
  }
  return stats(times);
}

async function measure(db) {
  const dataDir = tempDir(`ck-size-${db}-`);
  let databaseUrl;
  if (db === 'postgres') {
    const { startPostgresServer } = await import(path.join(ROOT, 'dist/test/support/postgres-server.js'));
    const server = await startPostgresServer();
    cleanups.push(() => server.stop());
    databaseUrl = await server.createDatabase();
  }
  log(`${db}: generating ${CRATES} crates into ${dataDir}`);
  const generated = await generate(dataDir, databaseUrl);
  log(`${db}: ${generated.crates} crates, ${generated.versions} versions in ${generated.seconds} s`);
  const token = readFileSync(path.join(dataDir, 'bench-admin-token'), 'utf8').trim();
  const names = JSON.parse(readFileSync(path.join(dataDir, 'bench-names.json'), 'utf8'));
  const result = { db, generated, databaseMiB: db === 'sqlite' ? duMiB(path.join(dataDir, 'cratekeeper.sqlite3')) : undefined };

  // Drop the OS page cache? Not without root-wide side effects: the database was just written, so
  // its pages are warm in the OS cache; "cold" below means cratekeeper's own cache.
  const ck = await startServer(dataDir, databaseUrl);
  try {
    result.startupMs = ck.startupMs;
    await new Promise((r) => setTimeout(r, 1000));
    result.rssAfterStartMiB = rssMiB(ck.child.pid);
    log(`${db}: started in ${ck.startupMs} ms, RSS ${result.rssAfterStartMiB} MiB`);

    // Cold: random crates among all of them, on a cache that starts empty and holds a few thousand.
    result.indexCold = await indexLoad(ck, token, names, `${db} index, random over all ${names.length} crates (cold cache)`, DURATION_S);
    // Warm: a working set that fits the cache, touched once first.
    const warm = names.slice(0, WARM_SET);
    await touchAll(ck, token, warm);
    result.indexWarm = await indexLoad(ck, token, warm, `${db} index, ${WARM_SET} crates (warm cache)`, DURATION_S);
    result.search = await searchLatency(ck, token);

    const touchNames = names.length <= TOUCH ? names : Array.from({ length: TOUCH }, (_, i) => names[Math.floor((i * names.length) / TOUCH)]);
    // In steps of 10,000, with the RSS and V8 heap after each: they level off once the cache is full.
    result.touch = { files: 0, failures: 0, seconds: 0, steps: [] };
    for (let i = 0; i < touchNames.length; i += 10_000) {
      const step = await touchAll(ck, token, touchNames.slice(i, i + 10_000));
      result.touch.files += step.files;
      result.touch.failures += step.failures;
      result.touch.seconds = +(result.touch.seconds + step.seconds).toFixed(1);
      result.touch.steps.push({ files: result.touch.files, rssMiB: rssMiB(ck.child.pid), heapUsedMiB: await heapUsedMiB(ck, token) });
    }
    result.rssAfterTouchMiB = rssMiB(ck.child.pid);
    log(`${db}: touched ${result.touch.files} index files in ${result.touch.seconds} s, RSS ${result.rssAfterTouchMiB} MiB`);

    result.publish = await publishLatency(ck, token, names);
    log(`${db}: ${PUBLISHES} publishes, p50 ${result.publish.p50} ms, p99 ${result.publish.p99} ms`);
    result.rssAtEndMiB = rssMiB(ck.child.pid);
  } finally {
    await stopChild(ck.child);
  }
  return result;
}

const results = { startedAt: new Date().toISOString(), machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: +(os.totalmem() / 1024 ** 3).toFixed(1), node: process.version }, crates: CRATES, durationSeconds: DURATION_S, indexCacheBytes: INDEX_CACHE_BYTES, runs: [] };
try {
  for (const db of DBS) results.runs.push(await measure(db));
} finally {
  for (const c of [...children]) await stopChild(c);
  for (const f of cleanups.reverse()) await f().catch((e) => log(`cleanup: ${e}`));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  agent.destroy();
}
mkdirSync(RESULTS, { recursive: true });
const file = path.join(RESULTS, `size-${results.startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(results, null, 2));
log(`results in ${file}`);
console.log(JSON.stringify(results, null, 2));
if (!existsSync(file)) process.exitCode = 1;
