// cratekeeper at crates.io size: generates a registry (generate-registry.mjs) on SQLite and on
// PostgreSQL, then measures on this machine: start-up time, RSS, index-file throughput and p99 over
// many crates with a cold and a warm cache (wrk), search latency, RSS after touching many index
// files, and publish latency; and the cold step again against nginx (one worker) serving the same
// index files as static files. Index reads accept gzip, as cargo's do (one cold step without gzip
// too, for comparison), and nginx serves the gzip forms with `gzip_static`. See bench/README.md
// ("Registry size").
//
//   npm run build
//   node bench/size.mjs [--db sqlite,postgres] [--crates 150000] [--duration 10] [--touch 50000] [--publishes 300]
//
// Everything listens on 127.0.0.1 with OS-chosen ports; every process it starts is stopped at the
// end, also on failure or Ctrl-C, and its temporary folders are removed. JSON goes to bench/results/.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT,
  WRK_LUA,
  indexPath,
  log,
  loopbackClient,
  crateFile,
  ensureNginxAndWrk,
  option,
  percentile,
  publishMetadata,
  removeTempDirs,
  resultFile,
  runWrk as runWrkOnce,
  setLogTag,
  startCratekeeper,
  startNginx,
  stopAll,
  stopChild,
  tempDir,
  track,
} from './lib.mjs';

const { encodePublishBody } = await import(path.join(ROOT, 'dist/src/domain/publish-body.js'));

const DBS = option('db', 'sqlite,postgres').split(',');
const CRATES = Math.min(option('crates', 150_000), 1_000_000);
const DURATION_S = Math.min(option('duration', 10), 60);
const TOUCH = Math.min(option('touch', 50_000), 200_000);
const PUBLISHES = Math.min(option('publishes', 300), 2000);
const INDEX_CACHE_BYTES = 32 * 1024 ** 2; // the default cache.index_bytes, set explicitly
const WARM_SET = 2000;
const SEARCH_RUNS = 30;
const SEARCH_WARMUP_RUNS = 3;
const QUERIES = ['serde', 'tokio', 'http', 'se', ''];
/** What cargo sends with every index request besides its token. */
const AS_CARGO = { 'Accept-Encoding': 'gzip' };

setLogTag('size');
const cleanups = [];
/** nginx serving the exported index files, started by the first run and measured again in each. */
let reference;

const { agent, request } = loopbackClient({ maxSockets: 8, timeoutMs: 60_000 });
const stats = (times) => {
  const s = [...times].sort((a, b) => a - b);
  const at = (p) => +percentile(s, p).toFixed(2);
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), max: +s.at(-1).toFixed(2) };
};
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
    child.stdout.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 40 * 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`generate-registry.mjs failed (${code})`));
      resolve(JSON.parse(out));
    });
  });
}

async function startServer(dataDir, databaseUrl) {
  const env = { CRATEKEEPER_CACHE__INDEX_BYTES: String(INDEX_CACHE_BYTES) };
  if (databaseUrl) env.CRATEKEEPER_DATABASE__URL = databaseUrl;
  const t0 = performance.now();
  const { child, url } = await startCratekeeper(dataDir, { env, fresh: false, startTimeoutMs: 120_000, logStderr: false });
  return { child, url, startupMs: +(performance.now() - t0).toFixed(0) };
}

// The index cache's counters, and the index route's latency histogram as the server measures it
// (from the request's handler to its answer handed to the socket; bucket bound in seconds -> count).
async function scrapeIndexMetrics(ck, token) {
  const res = await request(`${ck.url}/metrics`, { headers: { authorization: token } });
  const body = res.body.toString();
  const value = (result) =>
    Number(new RegExp(`cratekeeper_index_cache_requests_total\\{result="${result}"\\} (\\S+)`).exec(body)?.[1] ?? NaN);
  const buckets = new Map();
  const bucket = /^cratekeeper_http_request_duration_seconds_bucket\{route="\/index\/\*",method="GET",status="200",le="([^"]+)"\} (\S+)$/gm;
  for (const [, le, count] of body.matchAll(bucket)) buckets.set(le, Number(count));
  return { hits: value('hit'), misses: value('miss'), buckets };
}

/**
 * The smallest bucket bound, in ms, within which 99 % of the index reads between two scrapes were
 * answered by the server's handler: what the server itself adds to wrk's p99, which also holds the
 * time a request waits in the socket and the load generator's own scheduling on the same cores.
 */
function serverP99BoundMs(before, after) {
  const total = (after.buckets.get('+Inf') ?? 0) - (before.buckets.get('+Inf') ?? 0);
  for (const [le, count] of after.buckets) {
    if (le !== '+Inf' && count - (before.buckets.get(le) ?? 0) >= 0.99 * total) return Number(le) * 1000;
  }
  return Infinity;
}

async function heapUsedMiB(ck, token) {
  const res = await request(`${ck.url}/metrics`, { headers: { authorization: token } });
  const m = /^nodejs_heap_size_used_bytes (\S+)/m.exec(res.body.toString());
  return m ? +(Number(m[1]) / 1024 ** 2).toFixed(1) : NaN;
}

// Random paths from pathsFile, reported by the shared `done` hook; figures rounded for the JSON.
async function runWrk(url, pathsFile, token, seconds, headers) {
  const lua = path.join(tempDir('ck-size-wrk-'), 'paths.lua');
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
${WRK_LUA}`,
  );
  const r = await runWrkOnce('wrk', lua, url, { Authorization: token, ...headers }, seconds, {
    threads: 2,
    connections: 64,
    timeout: '10s',
    graceS: 60,
  });
  const e = r.errors;
  return {
    rps: Math.round(r.rps),
    p50ms: +(r.latency_us.p50 / 1000).toFixed(2),
    p99ms: +(r.latency_us.p99 / 1000).toFixed(2),
    maxMs: +(r.latency_us.max / 1000).toFixed(1),
    errors: e.connect + e.read + e.write + e.timeout,
    non2xx: e.status,
    bytesPerResponse: Math.round(r.bytesPerResponse),
  };
}

function pathsFile(names) {
  const file = path.join(tempDir('ck-size-paths-'), 'paths.txt');
  writeFileSync(file, names.map((n) => `/index/${indexPath(n)}`).join('\n') + '\n');
  return file;
}

async function indexLoad(ck, token, names, label, seconds, headers = AS_CARGO) {
  const file = pathsFile(names);
  const before = await scrapeIndexMetrics(ck, token);
  const r = await runWrk(ck.url, file, token, seconds, headers);
  const after = await scrapeIndexMetrics(ck, token);
  const hits = after.hits - before.hits;
  const misses = after.misses - before.misses;
  r.cacheHitRatio = +(hits / Math.max(1, hits + misses)).toFixed(3);
  r.serverP99AtMostMs = serverP99BoundMs(before, after);
  r.distinctCrates = names.length;
  log(
    `${label}: ${r.rps} req/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms (the server's handler: p99 <= ${r.serverP99AtMostMs} ms), ` +
      `hit ratio ${r.cacheHitRatio}, errors ${r.errors}, non-2xx ${r.non2xx}`,
  );
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

/**
 * Every generated crate's index file, fetched from cratekeeper into `www` laid out as the sparse
 * index, with its gzip form beside it (`<path>.gz`, for `gzip_static`) when cratekeeper sent one:
 * what nginx serves as the cold step's reference.
 */
async function exportIndexFiles(ck, token, names, www) {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++];
      const res = await request(`${ck.url}/index/${indexPath(name)}`, { headers: { authorization: token, 'accept-encoding': 'gzip' } });
      if (res.status !== 200) throw new Error(`index file of ${name}: ${res.status}`);
      const file = path.join(www, 'index', indexPath(name));
      mkdirSync(path.dirname(file), { recursive: true });
      if (res.headers['content-encoding'] === 'gzip') {
        writeFileSync(`${file}.gz`, res.body);
        writeFileSync(file, gunzipSync(res.body));
      } else {
        writeFileSync(file, res.body);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  spawnSync('chmod', ['-R', 'a+rX', www]); // nginx workers may run as an unprivileged user
  log(`exported ${names.length} index files for nginx in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/**
 * The cold step against nginx (one worker, as cratekeeper serves with one process) serving the
 * same files, right after cratekeeper's: random crates among all of them, the same wrk settings.
 */
async function nginxColdReference(ck, token, names) {
  if (reference === undefined) {
    const www = tempDir('ck-size-www-');
    chmodSync(www, 0o755);
    await exportIndexFiles(ck, token, names, www);
    const locations = 'location /index/ { gzip_static on; }';
    reference = { ...(await startNginx(tools.nginx, www, { workerProcesses: 1, locations })), names, nginx: tools.nginxVersion };
  }
  const r = await runWrk(reference.url, pathsFile(reference.names), token, DURATION_S, AS_CARGO);
  log(`nginx (1 worker), the same files: ${r.rps} req/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, errors ${r.errors}, non-2xx ${r.non2xx}`);
  return { ...r, nginx: reference.nginx };
}

async function searchLatency(ck, token) {
  const out = {};
  for (const q of QUERIES) {
    const times = [];
    let total;
    // Untimed first: a query's first run also pays for a fresh database connection and its plan.
    for (let i = -SEARCH_WARMUP_RUNS; i < SEARCH_RUNS; i++) {
      const t0 = performance.now();
      const res = await request(`${ck.url}/api/v1/crates?q=${encodeURIComponent(q)}&per_page=10`, { headers: { authorization: token } });
      if (i >= 0) times.push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`search ${q}: ${res.status} ${res.body.toString().slice(0, 300)}`);
      total = JSON.parse(res.body.toString()).meta?.total;
    }
    const figures = (out[q === '' ? '(empty)' : q] = { ...stats(times), total });
    log(`search "${q}": p50 ${figures.p50} ms, p95 ${figures.p95} ms, p99 ${figures.p99} ms, ${total} matches`);
  }
  return out;
}

async function publishLatency(ck, token, names) {
  // New versions of existing generated crates (their index files are invalidated each time), each
  // depending on one other existing crate. Bodies are built before the clock starts.
  const bodies = [];
  for (let i = 0; i < PUBLISHES; i++) {
    const name = names[(i * 7919) % names.length];
    const dep = names[(i * 104_729 + 1) % names.length];
    const meta = publishMetadata(name, `900.0.${i}`, [[dep, '*']], { description: 'size benchmark publish' });
    bodies.push(encodePublishBody(meta, await crateFile(name, meta.vers, { libRs: 'pub fn answer() -> u32 { 42 }\n' })));
  }
  const times = [];
  for (const body of bodies) {
    const t0 = performance.now();
    const res = await request(`${ck.url}/api/v1/crates/new`, {
      method: 'PUT',
      headers: { authorization: token, 'content-length': body.length },
      body,
    });
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

    const touchNames =
      names.length <= TOUCH ? names : Array.from({ length: TOUCH }, (_, i) => names[Math.floor((i * names.length) / TOUCH)]);
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

    // The cold step without gzip (the bytes, not their stored gzip form, read and sent): after the
    // RSS figures, which are about reads as cargo makes them.
    result.indexColdPlain = await indexLoad(ck, token, names, `${db} index, the cold step without gzip`, DURATION_S, {});

    // Last: exporting the files for nginx (the first run only) reads every crate through cratekeeper.
    result.indexColdNginx = await nginxColdReference(ck, token, names);
    log(
      `${db} cold, cratekeeper / nginx: req/s ${(result.indexCold.rps / result.indexColdNginx.rps).toFixed(2)}x, ` +
        `p99 ${result.indexCold.p99ms} ms against ${result.indexColdNginx.p99ms} ms`,
    );
  } finally {
    await stopChild(ck.child);
  }
  return result;
}

const results = {
  startedAt: new Date().toISOString(),
  machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memGiB: +(os.totalmem() / 1024 ** 3).toFixed(1), node: process.version },
  crates: CRATES,
  durationSeconds: DURATION_S,
  indexCacheBytes: INDEX_CACHE_BYTES,
  runs: [],
};
// Before anything is generated: a missing tool would otherwise fail the run at its first load.
const tools = ensureNginxAndWrk();
try {
  for (const db of DBS) results.runs.push(await measure(db));
} finally {
  await stopAll();
  for (const f of cleanups.reverse()) await f().catch((e) => log(`cleanup: ${e}`));
  removeTempDirs();
  agent.destroy();
}
const file = resultFile('size', results.startedAt);
writeFileSync(file, JSON.stringify(results, null, 2));
log(`results in ${file}`);
console.log(JSON.stringify(results, null, 2));
if (!existsSync(file)) process.exitCode = 1;
