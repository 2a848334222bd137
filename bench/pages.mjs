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

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT,
  aptInstall,
  cpuShare,
  cpuTimes,
  crateFile,
  fmt,
  indexPath,
  log,
  loopbackClient,
  machine,
  medianRound,
  ms,
  option,
  percentile,
  profilesSince,
  publishMetadata,
  resultFile,
  runMain,
  runWrk,
  setLogTag,
  startCratekeeper,
  stopChild,
  table,
  tempDir,
  which,
  WRK_LUA,
} from './lib.mjs';

const CRATES = Math.max(20, Math.min(option('crates', 200), 2000));
const DURATION_S = Math.max(1, Math.min(option('duration', 10), 60));
const WARMUP_S = Math.min(option('warmup', 1), 10);
const ROUNDS = Math.max(1, Math.min(option('rounds', 2), 5));
const CONNECTIONS = Math.max(1, Math.min(option('connections', 8), 256));
const THREADS = Math.min(2, CONNECTIONS);
const WRK = { threads: THREADS, connections: CONNECTIONS, timeout: '10s' };
const PROFILE = option('profile', false);
const DIST_ROOT = path.resolve(option('dist', ROOT));
const SCENARIO_NAMES = ['home', 'search', 'crate', 'crate-many', 'version-warm', 'version-cold', 'index'];
const ONLY = option('only', SCENARIO_NAMES.join(',')).split(',');
for (const name of ONLY)
  if (!SCENARIO_NAMES.includes(name)) throw new Error(`--only: unknown scenario ${name} (known: ${SCENARIO_NAMES.join(', ')})`);
const SEARCH_QUERY = 'http';
const DOWNLOADS = 400;
const COLD_PROBE = 10;
const MANY_VERSIONS = 60;

const { encodePublishBody } = await import(path.join(DIST_ROOT, 'dist/src/domain/publish-body.js'));

setLogTag('pages');

// ---------------------------------------------------------------- tools

function ensureWrk() {
  if (!which('wrk')) {
    log('installing wrk (Debian package)');
    aptInstall(['wrk']);
  }
  const wrk = which('wrk');
  if (!wrk) throw new Error('wrk not found after install');
  return { wrk, version: spawnSync(wrk, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].trim() };
}

function gitCommit(dir) {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

const { agent, request } = loopbackClient({ maxSockets: 4 });

const setCookies = (res) => [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
const cookieNamed = (res, name) => setCookies(res).find((c) => c.startsWith(`${name}=`) && c !== `${name}=`);

// ---------------------------------------------------------------- cratekeeper

// The server built in DIST_ROOT; `fresh: false` on a data folder that has its admin already (no token printed).
function startServer(dataDir, { profile = false, fresh = true } = {}) {
  return startCratekeeper(dataDir, { dist: DIST_ROOT, workers: 1, profile, fresh });
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
  'async',
  'http',
  'serde',
  'json',
  'tokio',
  'parse',
  'log',
  'time',
  'crypto',
  'net',
  'test',
  'util',
  'derive',
  'macro',
  'config',
  'cli',
  'sql',
  'cache',
  'queue',
  'stream',
  'buffer',
  'codec',
  'proto',
  'grpc',
  'tls',
  'hash',
  'rand',
  'image',
  'audio',
  'text',
  'regex',
  'file',
  'path',
  'env',
  'error',
  'trace',
  'metrics',
  'pool',
  'sync',
  'channel',
  'actor',
  'web',
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
  for (let i = 0, n = between(3, 12); i < n; i++)
    lines.push(`    let ${pick(WORDS)}_${i} = Client::new(Config::default()).${pick(WORDS)}(${between(1, 999)})?;`);
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
      case 0:
        chunk.push(`## ${pick(['Usage', 'Examples', 'Design', 'Performance', 'Safety', 'Compatibility'])}`, paragraph(), rustBlock(name));
        break;
      case 1:
        chunk.push(`### ${pick(PROSE)} ${pick(PROSE)}`, paragraph(), paragraph());
        break;
      case 2:
        chunk.push(Array.from({ length: between(3, 8) }, () => `- ${sentence()}`).join('\n'));
        break;
      case 3: {
        const rows = Array.from(
          { length: between(3, 8) },
          () => `| \`${pick(WORDS)}\` | ${pick(['yes', 'no', 'optional'])} | ${sentence()} |`,
        );
        chunk.push('| feature | default | what it does |\n|---|---|---|\n' + rows.join('\n'));
        break;
      }
      default:
        chunk.push(
          `> ${sentence()}`,
          `See [the guide](docs/guide.md), [examples](examples/) and ![diagram](docs/diagram.png).`,
          paragraph(),
        );
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

function metadata(c, vers, readmeText) {
  return publishMetadata(
    c.name,
    vers,
    c.deps.map((d) => [d, '>=0.1']),
    {
      features: { default: ['std'], std: [] },
      authors: ['Bench <bench@example.invalid>'],
      description: `${c.name.replace(/-/g, ' ')}: ${sentence()}`,
      documentation: `https://docs.rs/${c.name}`,
      readme: readmeText ?? null,
      readme_file: readmeText ? 'README.md' : null,
      keywords: c.name.split('-').slice(0, 2),
      repository: `https://github.com/bench-org/${c.name}`,
    },
  );
}

async function populate(ck, crates) {
  const t0 = performance.now();
  let versions = 0;
  let bytes = 0;
  for (const c of crates) {
    for (const vers of c.versions) {
      const text = c.readmeBytes > 0 ? readme(c.name, c.readmeBytes) : undefined;
      const body = encodePublishBody(metadata(c, vers, text), await crateFile(c.name, vers, { readme: text }));
      const res = await request(`${ck.url}/api/v1/crates/new`, {
        method: 'PUT',
        headers: { authorization: ck.token, 'content-length': body.length },
        body,
      });
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
  return {
    crates: crates.length,
    versions,
    publishBodyBytes: bytes,
    withReadme: crates.filter((c) => c.readmeBytes > 0).length,
    downloads: DOWNLOADS,
    seconds: +((performance.now() - t0) / 1000).toFixed(1),
  };
}

// ---------------------------------------------------------------- browser session

async function signIn(ck) {
  const form = await request(`${ck.url}/sign-in`);
  const login = cookieNamed(form, 'ck_login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body.toString('utf8'))?.[1];
  if (form.status !== 200 || !login || !csrf)
    throw new Error(`sign-in form: ${form.status}, cookie ${Boolean(login)}, csrf ${Boolean(csrf)}`);
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
          r.on('data', (c) => {
            n += c.length;
          });
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
  const at = (q) => Math.round(percentile(sorted, q * 100));
  return {
    requests: paths.length,
    duration_us: Math.round(duration_us),
    bytes,
    errors,
    latency_us: {
      mean: latencies.reduce((a, b) => a + b, 0) / latencies.length,
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: Math.round(sorted.at(-1)),
    },
    rps: paths.length / (duration_us / 1e6),
    bytesPerResponse: bytes / paths.length,
    client: 'node',
  };
}

// ---------------------------------------------------------------- main

function ratioRange(rounds, indexRounds) {
  const ratios = rounds.map((r, i) => (100 * r.rps) / indexRounds[i].rps).sort((a, b) => a - b);
  return ratios.length === 1 ? `${fmt(ratios[0], 1)} %` : `${fmt(ratios[0], 1)}-${fmt(ratios.at(-1), 1)} %`;
}

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
  log(
    `machine: ${result.machine.nproc} cores, ${result.machine.cpuModel}, node ${result.machine.node}, load ${result.machine.loadAverageAtStart.join(' ')}`,
  );

  const dataDir = tempDir('ck-pages-data-');
  let ck = await startServer(dataDir);
  const token = ck.token;
  log(`cratekeeper at ${ck.url}; publishing ${CRATES} crates`);
  const crates = plan();
  result.data = await populate(ck, crates);
  log(
    `published ${result.data.versions} versions of ${result.data.crates} crates (${result.data.withReadme} with a README) in ${result.data.seconds} s`,
  );
  if (PROFILE) {
    await stopChild(ck.child, 30_000);
    ck = await startServer(dataDir, { profile: true, fresh: false });
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
    {
      name: 'crate',
      what: `GET /crates/${big.name} (README cached)`,
      path: `/crates/${big.name}`,
      headers: page,
      mustContain: ['id="readme"', '<svg'],
    },
    {
      name: 'crate-many',
      what: `GET /crates/${many.name} (${many.versions.length} versions, README cached)`,
      path: `/crates/${many.name}`,
      headers: page,
      mustContain: ['id="readme"'],
    },
    {
      name: 'version-warm',
      what: `GET /crates/${big.name}/${warmVersion} (README cached)`,
      path: `/crates/${big.name}/${warmVersion}`,
      headers: page,
      mustContain: ['id="readme"'],
    },
    {
      name: 'version-cold',
      what: 'GET /crates/NAME/VERSION, each a first render of a 10-20 KB README (fresh server)',
      path: '/',
      headers: page,
      cold: true,
    },
    {
      name: 'index',
      what: `GET /index/${indexPath(big.name)} (Authorization, reference)`,
      path: `/index/${indexPath(big.name)}`,
      headers: { Authorization: token },
    },
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
        ck = { ...(await startServer(dataDir, { profile: PROFILE, fresh: false })), token };
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
        await runWrk(tools.wrk, plainLua, `${ck.url}${s.path}`, s.headers, WARMUP_S, WRK);
      }
      const before = cpuTimes();
      // The cold pages run out long before a wrk run would end, and past that they are warm: they are
      // fetched by a Node client instead, over CONNECTIONS keep-alive connections, each page once.
      const r = s.cold
        ? await fetchAllOnce(ck.url, coldAll.slice(COLD_PROBE), page)
        : await runWrk(tools.wrk, plainLua, `${ck.url}${s.path}`, s.headers, DURATION_S, WRK);
      r.cpu = cpuShare(before, cpuTimes());
      r.load1 = +os.loadavg()[0].toFixed(2);
      if (s.cold) {
        r.probeMs = probe.map((x) => +x.toFixed(1));
      }
      runs[s.name].push(r);
      log(
        `round ${round}/${ROUNDS} ${s.name}: ${fmt(r.rps)} req/s, p50 ${ms(r.latency_us.p50)} ms, p99 ${ms(r.latency_us.p99)} ms, ` +
          `${fmt(r.bytesPerResponse)} B/resp, errors ${JSON.stringify(r.errors)}, machine cpu ${JSON.stringify(r.cpu)}` +
          (s.cold
            ? `, ${r.requests} distinct pages in ${fmt(r.duration_us / 1e6, 1)} s; one at a time before that: ${r.probeMs.join(', ')} ms`
            : ''),
      );
    }
  }

  result.scenarios = {};
  for (const s of scenarios) result.scenarios[s.name] = { what: s.what, ...medianRound(runs[s.name], result.checks[s.name]) };

  await stopChild(ck.child, 30_000);
  if (PROFILE) result.profile = profilesSince(startedAt);

  // ---- report
  const index = result.scenarios.index;
  const rows = Object.entries(result.scenarios).map(([name, r]) => [
    name,
    fmt(r.rps),
    `${fmt(r.rpsMin)}-${fmt(r.rpsMax)}`,
    ms(r.latency_us.p50),
    ms(r.latency_us.p99),
    fmt(r.bytesPerResponse),
    index && name !== 'index' ? ratioRange(r.rounds, index.rounds) : '',
    String(Object.values(r.errors).reduce((a, b) => a + b, 0)),
    `${r.cpu.user}/${r.cpu.system}/${r.cpu.idle}`,
  ]);
  const head = [
    'scenario',
    'req/s',
    `range (${ROUNDS} rounds)`,
    'p50 ms',
    'p99 ms',
    'bytes/resp',
    'vs index (per round)',
    'errors',
    'cpu us/sy/id %',
  ];
  const out = [''];
  out.push(
    `cratekeeper ${result.cratekeeper.commit ?? ''} (${DIST_ROOT}); ${result.data.crates} crates, ${result.data.versions} versions, ` +
      `${result.data.withReadme} crates with a 10-20 KB README; wrk ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION_S} s a run, ` +
      `median of ${ROUNDS} round(s) (of an even count, the slower middle one); "vs index": req/s over the index's in the same round`,
  );
  for (const s of scenarios) out.push(`  ${s.name.padEnd(12)} ${s.what}`);
  out.push(...table(head, rows));
  const cold = result.scenarios['version-cold'];
  if (cold) {
    out.push(
      `version-cold: each page fetched once by a Node client over ${CONNECTIONS} connections: ` +
        `${cold.rounds.map((r) => `${r.requests} pages in ${fmt(r.duration_us / 1e6, 1)} s`).join('; ')}`,
    );
    const probes = cold.rounds.flatMap((r) => r.probeMs).sort((a, b) => a - b);
    out.push(
      `  one first render at a time (${probes.length} pages, right after a restart): median ${fmt(probes[Math.floor(probes.length / 2)], 1)} ms, ` +
        `min ${fmt(probes[0], 1)}, max ${fmt(probes.at(-1), 1)} ms`,
    );
  }
  out.push(
    `machine: ${result.machine.nproc} cores (${result.machine.cpuModel}), node ${result.machine.node}, ${tools.version}; load average at start ` +
      `${result.machine.loadAverageAtStart.join(' ')}, at end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  out.push(`total time ${fmt((Date.now() - startedAt) / 1000, 0)} s`);
  console.log(out.join('\n'));

  const file = resultFile('pages', result.machine.date);
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`results: ${path.relative(ROOT, file)}`);
}

await runMain(main, () => agent.destroy());
