// The long publish fuzz run: a million (by default) generated publish requests against the built
// app, in process through fastify's inject, judged like test/fuzz/publish-path.test.ts judges them
// (no 5xx, cargo-shaped refusals, must-refuse inputs refused, clean publishes of free names
// accepted, accepted versions downloadable with the right checksum). On top of the test it
// watches for hangs with a per-input timeout, samples RSS every N inputs, checks after each refusal
// that no crate or version row was added, and checks every --check-every inputs and at the end
// that the stored data (every row and blob) is exactly what the accepted publishes put there.
//
//   npm run build && taskset -c 0 node scripts/fuzz-publish.mjs --inputs 1000000
//
// See fuzz/README.md for the options, how to replay a failure, and the figures of the last run.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import fc from 'fast-check';
import { DEFAULT_FUZZ_SEED } from '@cratekeeper/test-support/fuzz-check';
import { fixedHangLimit } from '../dist/test/support/hang-guard.js';
import { buildPublish } from '../dist/test/support/publish-case-build.js';
import { publishCaseArb } from '../dist/test/support/publish-case.js';
import {
  assertPublished,
  crateExists,
  FUZZ_LIMITS,
  judgeAnswer,
  publishedBy,
  sendPublish,
  sha256,
  startFuzzTarget,
} from '../dist/test/support/publish-fuzz-target.js';
import { readStoredState } from '../dist/test/support/stored-state.js';

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const raw = process.argv[i + 1];
  if (typeof fallback === 'string') return raw;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} expects a whole number, not ${raw}`);
  return value;
}

const INPUTS = option('inputs', 1_000_000);
const SEED = option('seed', DEFAULT_FUZZ_SEED);
const BATCH = option('batch', 1000);
const TIMEOUT_MS = option('timeout-ms', 15_000);
const RSS_EVERY = option('rss-every', 10_000);
const CHECK_EVERY = option('check-every', 100_000);
const PROGRESS_EVERY = option('progress-every', 50_000);
const MAX_FAILURES = option('max-failures', 100);
const REPLAY = option('replay', '');
const OUT = option('out', path.join(os.tmpdir(), `cratekeeper-fuzz-publish-${new Date().toISOString().replace(/[:.]/g, '-')}.json`));

const log = (line) => process.stdout.write(`[fuzz-publish] ${line}\n`);
const mib = (bytes) => Math.round((bytes / 1024 ** 2) * 10) / 10;

/** Input number `n` of the campaign: batch floor(n / BATCH), seeded SEED + batch, so any input can be replayed alone. */
function* inputs(first, count) {
  let batch = -1;
  let cases = [];
  for (let n = first; n < first + count; n++) {
    const b = Math.floor(n / BATCH);
    if (b !== batch) {
      batch = b;
      cases = fc.sample(publishCaseArb, { seed: SEED + b, numRuns: BATCH });
    }
    yield { n, publishCase: cases[n % BATCH] };
  }
}

const target = await startFuzzTarget();
// What `cratekeeper serve` runs beside the app (src/server.ts): the audit log's batched writes and
// the shared rate-limit counts. Without them the audit events of a long run pile up in memory.
target.r.registry.audit.start(target.r.registry.config.audit.flush_interval_ms);
target.r.registry.rateLimits.start(target.r.registry.config.cache.poll_interval_ms);
// Ctrl-C or SIGTERM ends the run after the current input, with the summary and the data folder removed.
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (interrupted = true));
const guard = fixedHangLimit(TIMEOUT_MS);
const db = target.r.registry.metadata.db;
const rowMarks = async () =>
  (
    await sql`select (select max(id) from versions) as v, (select max(id) from crates) as c, (select max(rowid) from crate_owners) as o`.execute(
      db,
    )
  ).rows[0];

// What the stored data must be: the seeded crate plus every accepted publish.
const initial = await readStoredState(target.r.registry, target.r.dataDir);
const acceptedVersions = [];
const owners = new Map(initial.owners.map((o) => [o.crate, o.login]));

async function checkStoredData(label) {
  const state = await readStoredState(target.r.registry, target.r.dataDir);
  const key = (v) => `${v.crate}\u0000${v.vers}\u0000${v.cksum}`;
  const expected = [...initial.versions.map(key), ...acceptedVersions.map(key)].sort();
  assert.deepEqual(state.versions.map(key).sort(), expected, `${label}: stored versions differ from the accepted publishes`);
  assert.equal(state.blobs.length, expected.length, `${label}: ${state.blobs.length} blobs for ${expected.length} versions`);
  for (const v of state.versions)
    assert.ok(
      state.blobs.some((b) => b.includes(v.cksum)),
      `${label}: no blob for ${v.crate} ${v.vers}`,
    );
  assert.deepEqual(
    state.owners.map((o) => `${o.crate} ${o.login}`).sort(),
    [...owners].map(([crate, login]) => `${crate} ${login}`).sort(),
    `${label}: crate owners differ from the first publishers`,
  );
  assert.deepEqual(state.ownerGroups, [], `${label}: owner groups appeared`);
  return state;
}

const counts = { inputs: 0, accepted: 0, refused: 0, mustRefuse: 0, clean: 0, cleanAccepted: 0, byStatus: {} };
const failures = [];
const rss = [];
let peakRss = 0;

function fail(n, publishCase, built, error) {
  const entry = {
    input: n,
    replay: `node scripts/fuzz-publish.mjs --seed ${SEED} --batch ${BATCH} --replay ${n}`,
    error: String(error?.message ?? error).slice(0, 2000),
    case: JSON.stringify(publishCase).slice(0, 4000),
    bodyBytes: built?.body.length,
  };
  failures.push(entry);
  log(`FAILURE at input ${n}: ${entry.error.split('\n')[0]}`);
  if (failures.length >= MAX_FAILURES) throw new Error(`stopping after ${failures.length} failures`);
}

async function runOne(n, publishCase) {
  const built = buildPublish(publishCase, FUZZ_LIMITS);
  if (built.mustRefuse) counts.mustRefuse++;
  if (built.clean) counts.clean++;
  const existed = built.clean ? await crateExists(target, built.name) : false;
  const marks = await rowMarks();
  let answer;
  try {
    answer = await sendPublish(target, built, guard);
    counts.byStatus[answer.status] = (counts.byStatus[answer.status] ?? 0) + 1;
    if (answer.status === 200) {
      // Into the model before the judgement, so that a wrong acceptance is reported once, not again
      // by every later stored-data check.
      const { name, version, crate } = publishedBy(built.body);
      acceptedVersions.push({ crate: name, vers: version, cksum: sha256(crate) });
      if (!owners.has(name)) owners.set(name, target.logins[built.identity]);
    }
    const verdict = judgeAnswer(built, answer, existed);
    if (verdict.accepted) {
      counts.accepted++;
      if (built.clean) counts.cleanAccepted++;
      await assertPublished(target, built);
    } else {
      counts.refused++;
      assert.deepEqual(await rowMarks(), marks, `a refused publish (${answer.status}: ${verdict.detail}) added rows`);
    }
  } catch (error) {
    fail(n, publishCase, built, error);
  }
  if (REPLAY !== '') log(`input ${n}: ${answer?.status} ${answer?.body.slice(0, 500)}\n${JSON.stringify(publishCase)}`);
}

/** Anonymous and file-backed resident memory from /proc (Linux), to tell heap growth from mapped files. */
function procRss() {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { anonMiB: mib(kib('RssAnon') * 1024), fileMiB: mib(kib('RssFile') * 1024) };
  } catch {
    return {};
  }
}

function sampleRss(n) {
  // With `node --expose-gc`, samples are taken after a full collection: what is retained, not garbage.
  globalThis.gc?.();
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  rss.push({ inputs: n, rssMiB: mib(usage.rss), heapUsedMiB: mib(usage.heapUsed), externalMiB: mib(usage.external), ...procRss() });
}

/** Least-squares slope of RSS over inputs, in MiB per 100,000 inputs. */
function slope(samples) {
  const xs = samples.map((s) => s.inputs);
  const ys = samples.map((s) => s.rssMiB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const value = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0) / xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return Math.round(value * 100_000 * 100) / 100;
}

/** RSS trend: the medians of the first and last quarter of samples, and the slope, overall and over the second half. */
function rssTrend() {
  if (rss.length < 4) return undefined;
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const q = Math.floor(rss.length / 4);
  const ys = rss.map((s) => s.rssMiB);
  return {
    firstQuarterMedianMiB: median(ys.slice(0, q)),
    lastQuarterMedianMiB: median(ys.slice(-q)),
    slopeMiBPer100kInputs: slope(rss),
    secondHalfSlopeMiBPer100kInputs: slope(rss.slice(Math.floor(rss.length / 2))),
  };
}

const started = process.hrtime.bigint();
const elapsedS = () => Number(process.hrtime.bigint() - started) / 1e9;
let stopped;
log(`node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model}), seed ${SEED}, batch ${BATCH}, timeout ${TIMEOUT_MS} ms`);
try {
  if (REPLAY !== '') {
    for (const { n, publishCase } of inputs(Number(REPLAY), 1)) await runOne(n, publishCase);
    counts.inputs = 1;
    sampleRss(1);
  } else {
    log(`running ${INPUTS} inputs; RSS every ${RSS_EVERY}, stored data checked every ${CHECK_EVERY}`);
    sampleRss(0);
    for (const { n, publishCase } of inputs(0, INPUTS)) {
      if (interrupted) throw new Error(`interrupted after ${counts.inputs} inputs`);
      await runOne(n, publishCase);
      counts.inputs = n + 1;
      if (counts.inputs % RSS_EVERY === 0) sampleRss(counts.inputs);
      if (counts.inputs % CHECK_EVERY === 0) {
        try {
          await checkStoredData(`after ${counts.inputs} inputs`);
        } catch (error) {
          fail(n, 'stored-data check', undefined, error);
        }
      }
      if (counts.inputs % PROGRESS_EVERY === 0) {
        const last = rss[rss.length - 1];
        log(
          `${counts.inputs} inputs, ${Math.round(counts.inputs / elapsedS())}/s, ${counts.accepted} accepted, ${counts.refused} refused, ` +
            `${failures.length} failures; RSS ${last?.rssMiB} MiB (heap ${last?.heapUsedMiB}, anonymous ${last?.anonMiB}, files ${last?.fileMiB})`,
        );
      }
    }
  }
} catch (error) {
  stopped = String(error?.message ?? error);
  log(`stopped: ${stopped}`);
}
const duration = elapsedS();
let finalState;
try {
  finalState = await checkStoredData('at the end');
} catch (error) {
  fail(counts.inputs, 'final stored-data check', undefined, error);
}
await target.r.close();

const summary = {
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  seed: SEED,
  batch: BATCH,
  timeoutMs: TIMEOUT_MS,
  limits: FUZZ_LIMITS,
  durationSeconds: Math.round(duration),
  inputsPerSecond: Math.round(counts.inputs / duration),
  ...counts,
  stored: finalState
    ? { crates: finalState.crates.length, versions: finalState.versions.length, blobs: finalState.blobs.length }
    : undefined,
  peakRssMiB: mib(peakRss),
  rssTrend: rssTrend(),
  rssSamples: rss,
  stopped,
  failures,
};
writeFileSync(OUT, JSON.stringify(summary, null, 2));
log(
  `${counts.inputs} inputs in ${Math.round(duration)} s (${summary.inputsPerSecond}/s): ${counts.accepted} accepted, ${counts.refused} refused`,
);
log(
  `by status: ${JSON.stringify(counts.byStatus)}; must-refuse inputs ${counts.mustRefuse}, clean ${counts.clean} (${counts.cleanAccepted} accepted)`,
);
log(`peak RSS ${summary.peakRssMiB} MiB; trend ${JSON.stringify(summary.rssTrend)}`);
log(`stored at the end: ${JSON.stringify(summary.stored)}; ${failures.length} failures; summary in ${OUT}`);
process.exit(failures.length > 0 || stopped ? 1 : 0);
