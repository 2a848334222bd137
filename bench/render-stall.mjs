// Does one expensive render stall everyone else? Latency of /healthz and of a cached index file
// while hostile README pages and a large index file are being rendered. See bench/README.md
// ("Render stalls").
//
// What it does:
//   1. Starts `node dist/cli/main.js serve` (one process) on a temporary data folder and publishes,
//      through the publish API: a small crate whose index file is the cached reference; READMEs built
//      to be slow to render, each in VERSIONS versions (every page view below is a first render, since
//      rendered READMEs are cached): `nested` (160,000 nested <div>s, 800 KB: the security review's
//      case), `links` (100,000 relative links, dropped to text for want of a repository URL), `table`
//      (a 500 KB Markdown table, the slowest ordinary Markdown measured); and `stall-index-large`,
//      1,000 versions with 12 dependencies each: a ~2 MB index file. A publish the server refuses
//      (a later limit on README sizes, say) is reported and its scenario skipped.
//   2. Signs in like a browser and keeps the session cookie.
//   3. For each scenario, for --duration seconds: one prober sends GET /healthz and GET the small
//      crate's index file (cached, with the token) alternately, one at a time, 10 ms apart, and
//      records each latency; meanwhile --concurrency hostile clients (default 1: "any single hostile
//      page view") request, one after another, each a page not rendered yet (`readme-*`), or yank or
//      unyank a version of the large crate and fetch its index file with `Accept-Encoding: gzip` as
//      cargo does (`index-large`: each yank invalidates the file, so each fetch renders ~2 MB). The
//      scenario ends when the time is up and the hostile requests in flight have been answered. A
//      `baseline` scenario runs the prober alone; `all` runs every hostile kind at once.
//   4. Prints a table (p50/p99/max of each probe, how many took over 100 ms, and how many hostile
//      requests were answered) and writes JSON to bench/results/render-stall-<time>.json.
//
// Usage: npm run build && node bench/render-stall.mjs [--duration 10] [--versions 20] [--concurrency 1]
//          [--only baseline,nested,links,table,index-large,all] [--profile] [--dist DIR]
//   --profile   runs the server under `node --cpu-prof` (publishing included) and writes the
//               .cpuprofile to bench/results/; summarise it with `node bench/profile-summary.mjs FILE`.
//   --dist DIR  runs the cratekeeper built in DIR (DIR/dist/...) instead of this tree's; e.g. a
//               `git archive` of an older commit built with `npx tsc -p .`, for before/after figures.
//
// Everything listens on 127.0.0.1 with OS-chosen ports; the server is stopped at the end, also on
// failure or Ctrl-C, and its data folder removed. Figures are measured here, never asserted.

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT,
  crateFile,
  fmt,
  indexPath,
  log,
  loopbackClient,
  machine,
  option,
  percentile,
  profilesSince,
  publishMetadata,
  resultFile,
  runMain,
  setLogTag,
  startCratekeeper,
  stopChild,
  table,
  tempDir,
} from './lib.mjs';

const DURATION_S = Math.max(1, Math.min(option('duration', 10), 300));
const VERSIONS = Math.max(1, Math.min(option('versions', 20), 500));
const CONCURRENCY = Math.max(1, Math.min(option('concurrency', 1), 16));
const DIST_ROOT = path.resolve(option('dist', ROOT));
const PROFILE = option('profile', false);
const SCENARIO_NAMES = ['baseline', 'nested', 'links', 'table', 'index-large', 'all'];
const ONLY = option('only', SCENARIO_NAMES.join(',')).split(',');
for (const name of ONLY)
  if (!SCENARIO_NAMES.includes(name)) throw new Error(`--only: unknown scenario ${name} (known: ${SCENARIO_NAMES.join(', ')})`);
const PROBE_GAP_MS = 10;
/** The security review's bar: /healthz and a cached index file answer within this while any one hostile request runs. */
const SLOW_MS = 100;
const LARGE_VERSIONS = 1000;
const LARGE_DEPS = 12;
const HOSTILE_TIMEOUT_MS = 300_000;

const { encodePublishBody } = await import(path.join(DIST_ROOT, 'dist/src/domain/publish-body.js'));

setLogTag('render-stall');

const READMES = {
  nested: () => '<div>'.repeat(160_000),
  links: () => '[text](relative/path.md) '.repeat(100_000),
  table: () => '| name | value | notes |\n|---|---|---|\n' + '| `cell` | **12** | some words in a cell |\n'.repeat(11_500),
};
const README_CRATE = (kind) => `stall-readme-${kind}`;
const LARGE = 'stall-index-large';
const SMALL = 'stall-small';

const probeClient = loopbackClient({ maxSockets: 1, timeoutMs: HOSTILE_TIMEOUT_MS });
const hostileClient = loopbackClient({ maxSockets: CONCURRENCY * 4, timeoutMs: HOSTILE_TIMEOUT_MS });
const setupClient = loopbackClient({ maxSockets: 2, timeoutMs: HOSTILE_TIMEOUT_MS });

function gitCommit(dir) {
  const r = spawnSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// ---------------------------------------------------------------- publishing

/** Publishes one version; returns undefined, or the server's refusal (status and detail). */
async function publish(ck, name, vers, { readme, deps = [], features = {} } = {}) {
  const meta = publishMetadata(
    name,
    vers,
    deps.map((d) => [d, '>=0.1']),
    {
      features,
      description: `${name}: built to be expensive to render`,
      readme: readme ?? null,
      readme_file: readme ? 'README.md' : null,
    },
  );
  const body = encodePublishBody(meta, await crateFile(name, vers, { readme }));
  const res = await setupClient.request(`${ck.url}/api/v1/crates/new`, {
    method: 'PUT',
    headers: { authorization: ck.token, 'content-length': body.length },
    body,
  });
  if (res.status === 200) return undefined;
  const text = res.body.toString('utf8');
  if (res.status >= 400 && res.status < 500) return { status: res.status, detail: text.slice(0, 300) };
  throw new Error(`publish ${name}@${vers}: ${res.status} ${text.slice(0, 300)}`);
}

async function populate(ck) {
  const t0 = performance.now();
  const refused = {};
  await publish(ck, SMALL, '1.0.0');
  for (const [kind, make] of Object.entries(READMES)) {
    if (!ONLY.includes(kind) && !ONLY.includes('all')) continue;
    const text = make();
    for (let i = 0; i < VERSIONS; i++) {
      const refusal = await publish(ck, README_CRATE(kind), `0.1.${i}`, { readme: text });
      if (refusal) {
        refused[kind] = refusal;
        log(`${kind}: the server refused the README (${refusal.status}): ${refusal.detail}`);
        break;
      }
    }
  }
  if (ONLY.includes('index-large') || ONLY.includes('all')) {
    const deps = Array.from({ length: LARGE_DEPS }, (_, i) => `stall-dependency-${i}`);
    for (const d of deps) await publish(ck, d, '0.1.0');
    const features = Object.fromEntries(deps.map((d) => [d.replace('stall-', ''), [`${d}/std`]]));
    for (let i = 0; i < LARGE_VERSIONS; i++) {
      const refusal = await publish(ck, LARGE, `1.0.${i}`, { deps, features });
      if (refusal) throw new Error(`publish ${LARGE}@1.0.${i}: ${refusal.status} ${refusal.detail}`);
      if ((i + 1) % 250 === 0) log(`published ${i + 1}/${LARGE_VERSIONS} versions of ${LARGE}`);
    }
  }
  return { seconds: +((performance.now() - t0) / 1000).toFixed(1), refused };
}

// ---------------------------------------------------------------- browser session

const setCookies = (res) => [].concat(res.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
const cookieNamed = (res, name) => setCookies(res).find((c) => c.startsWith(`${name}=`) && c !== `${name}=`);

async function signIn(ck) {
  const form = await setupClient.request(`${ck.url}/sign-in`);
  const login = cookieNamed(form, 'ck_login');
  const csrf = /name="csrf" value="([^"]+)"/.exec(form.body.toString('utf8'))?.[1];
  if (form.status !== 200 || !login || !csrf) throw new Error(`sign-in form: ${form.status}`);
  const body = new URLSearchParams({ csrf, token: ck.token }).toString();
  const done = await setupClient.request(`${ck.url}/me/token-sign-in`, {
    method: 'POST',
    headers: { cookie: login, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
    body,
  });
  const session = cookieNamed(done, 'ck_session');
  if (done.status !== 303 || !session) throw new Error(`token sign-in: ${done.status}`);
  return session;
}

// ---------------------------------------------------------------- the run

/** Hostile request makers: each call returns the next request to send, as a function, or undefined when out. */
function hostileSource(kind, ck, cookie) {
  if (kind === 'index-large') {
    let n = 0;
    return () => {
      const i = n++;
      const version = `1.0.${i % LARGE_VERSIONS}`;
      const verb = Math.floor(i / LARGE_VERSIONS) % 2 === 0 ? 'yank' : 'unyank';
      return async () => {
        const changed = await hostileClient.request(`${ck.url}/api/v1/crates/${LARGE}/${version}/${verb}`, {
          method: verb === 'yank' ? 'DELETE' : 'PUT',
          headers: { authorization: ck.token },
        });
        if (changed.status !== 200) throw new Error(`${verb} ${LARGE}@${version}: ${changed.status}`);
        const file = await hostileClient.request(`${ck.url}/index/${indexPath(LARGE)}`, {
          headers: { authorization: ck.token, 'accept-encoding': 'gzip' },
        });
        if (file.status !== 200) throw new Error(`index ${LARGE}: ${file.status}`);
        return file.body.length;
      };
    };
  }
  let next = 0;
  return () => {
    if (next >= VERSIONS) return undefined;
    const url = `${ck.url}/crates/${README_CRATE(kind)}/0.1.${next++}`;
    return async () => {
      const res = await hostileClient.request(url, { headers: { cookie } });
      if (res.status !== 200) throw new Error(`${url}: ${res.status}`);
      return res.body.length;
    };
  };
}

const stats = (latencies) => {
  const sorted = [...latencies].sort((a, b) => a - b);
  const over = sorted.length - sorted.findIndex((x) => x > SLOW_MS);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    over100: sorted.at(-1) > SLOW_MS ? over : 0,
  };
};

async function runScenario(name, ck, cookie, refused) {
  // `all` runs every kind the server accepted at publish (a refused README has no page to view).
  const kinds = name === 'baseline' ? [] : name === 'all' ? ['nested', 'links', 'table', 'index-large'].filter((k) => !refused[k]) : [name];
  const sources = kinds.map((k) => ({ kind: k, next: hostileSource(k, ck, cookie) }));
  const endAt = performance.now() + DURATION_S * 1000;
  const hostile = { answered: 0, bytes: 0, latencies: [] };
  let hostileRunning = 0;
  const hostileWorker = async (w) => {
    hostileRunning++;
    try {
      for (let turn = w; performance.now() < endAt; turn++) {
        // The next request of the next kind that has any left (README pages run out: each is sent once).
        let send;
        for (let k = 0; k < sources.length && !send; k++) send = sources[(turn + k) % sources.length].next();
        if (!send) break;
        const t = performance.now();
        hostile.bytes += await send();
        hostile.latencies.push(performance.now() - t);
        hostile.answered++;
      }
    } finally {
      hostileRunning--;
    }
  };
  const workers = sources.length === 0 ? [] : Array.from({ length: CONCURRENCY * sources.length }, (_, w) => hostileWorker(w));
  const probes = { healthz: [], index: [] };
  const probeUrls = { healthz: `${ck.url}/healthz`, index: `${ck.url}/index/${indexPath(SMALL)}` };
  for (let i = 0; performance.now() < endAt || hostileRunning > 0; i++) {
    const which = i % 2 === 0 ? 'healthz' : 'index';
    const t = performance.now();
    const res = await probeClient.request(probeUrls[which], { headers: which === 'index' ? { authorization: ck.token } : {} });
    if (res.status !== 200) throw new Error(`probe ${which}: ${res.status}`);
    probes[which].push(performance.now() - t);
    await new Promise((r) => setTimeout(r, PROBE_GAP_MS));
  }
  await Promise.all(workers);
  return {
    kinds,
    healthz: stats(probes.healthz),
    index: stats(probes.index),
    hostile: { answered: hostile.answered, bytes: hostile.bytes, ...stats(hostile.latencies) },
    load1: +os.loadavg()[0].toFixed(2),
  };
}

async function main() {
  const result = {
    benchmark: 'render-stall',
    machine: machine(),
    cratekeeper: { dist: DIST_ROOT, commit: gitCommit(DIST_ROOT) },
    settings: { DURATION_S, VERSIONS, CONCURRENCY, ONLY, PROBE_GAP_MS, LARGE_VERSIONS, LARGE_DEPS },
  };
  log(
    `machine: ${result.machine.nproc} cores, ${result.machine.cpuModel}, node ${result.machine.node}, load ${result.machine.loadAverageAtStart.join(' ')}`,
  );
  const startedAt = Date.now();
  const ck = await startCratekeeper(tempDir('ck-render-stall-'), { dist: DIST_ROOT, workers: 1, profile: PROFILE });
  log(`cratekeeper at ${ck.url}; publishing`);
  result.data = await populate(ck);
  log(`published in ${result.data.seconds} s`);
  const cookie = await signIn(ck);
  const small = await probeClient.request(`${ck.url}/index/${indexPath(SMALL)}`, { headers: { authorization: ck.token } });
  if (small.status !== 200) throw new Error(`index ${SMALL}: ${small.status}`);
  if (ONLY.includes('index-large') || ONLY.includes('all')) {
    const large = await setupClient.request(`${ck.url}/index/${indexPath(LARGE)}`, { headers: { authorization: ck.token } });
    result.data.largeIndexBytes = large.body.length;
    log(`${LARGE}: index file of ${large.body.length} bytes`);
  }

  result.scenarios = {};
  for (const name of SCENARIO_NAMES.filter((s) => ONLY.includes(s))) {
    if (result.data.refused[name]) {
      result.scenarios[name] = { skipped: `the server refused the README at publish: ${result.data.refused[name].detail}` };
      continue;
    }
    const r = await runScenario(name, ck, cookie, result.data.refused);
    result.scenarios[name] = r;
    log(
      `${name}: healthz p50 ${fmt(r.healthz.p50, 1)} p99 ${fmt(r.healthz.p99, 1)} max ${fmt(r.healthz.max, 1)} ms; ` +
        `cached index p50 ${fmt(r.index.p50, 1)} p99 ${fmt(r.index.p99, 1)} max ${fmt(r.index.max, 1)} ms; ` +
        `${r.hostile.answered} hostile requests answered (p50 ${fmt(r.hostile.p50)} ms, max ${fmt(r.hostile.max)} ms)`,
    );
  }

  const rows = Object.entries(result.scenarios).map(([name, r]) =>
    r.skipped
      ? [name, 'skipped', '', '', '', '', '', '', '', '', '']
      : [
          name,
          String(r.hostile.answered),
          fmt(r.hostile.max),
          fmt(r.healthz.p50, 1),
          fmt(r.healthz.p99, 1),
          fmt(r.healthz.max, 1),
          `${r.healthz.over100}/${r.healthz.count}`,
          fmt(r.index.p50, 1),
          fmt(r.index.p99, 1),
          fmt(r.index.max, 1),
          `${r.index.over100}/${r.index.count}`,
        ],
  );
  const head = [
    'scenario',
    'hostile answered',
    'hostile max ms',
    'healthz p50',
    'p99',
    'max',
    `> ${SLOW_MS} ms`,
    'cached index p50',
    'p99',
    'max',
    `> ${SLOW_MS} ms`,
  ];
  console.log(
    `\nrender-stall: ${result.cratekeeper.commit ?? DIST_ROOT}, ${DURATION_S} s a scenario, ${CONCURRENCY} hostile client(s) a kind, probes 10 ms apart (latencies in ms)`,
  );
  console.log(table(head, rows).join('\n'));
  const file = resultFile('render-stall', result.machine.date);
  writeFileSync(file, JSON.stringify(result, null, 2));
  log(`wrote ${path.relative(ROOT, file)}`);
  if (PROFILE) {
    await stopChild(ck.child, 30_000);
    result.profiles = profilesSince(startedAt);
  }
}

await runMain(main, () => {
  probeClient.agent.destroy();
  hostileClient.agent.destroy();
  setupClient.agent.destroy();
});
