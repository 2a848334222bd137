// Instructions one index read costs: cratekeeper's lean path against the bare node:http reference
// (bare-node-server.mjs), counted by valgrind's callgrind on the same machine in the same run.
//
// Why: on this workplace's shared 2-core machines the same build's throughput moves by a fifth from
// one wrk run to the next, which hides differences of a few percent (index-throughput.mjs needs many
// rounds to see them). callgrind counts the instructions a process executes, which do not depend on
// what else the machine is doing: the same build and requests give the same count within a few
// percent. It counts instructions, not time (a cache miss costs nothing here), so it complements
// index-throughput.mjs, it does not replace it.
//
// What it does: publishes the hot index file (hot-index.mjs) through a normal server, then runs
// cratekeeper (on that data folder) and the bare reference (on the same bytes) under callgrind, one
// after the other. Each gets --warmup requests uncounted (for V8 to optimize the path), then 4,000
// with counting on, then --rounds rounds of --requests requests, each counted on its own. Requests
// are what wrk sends (GET, Host, Authorization), over 8 keep-alive connections, every answer
// checked (200, the file's length). Reported per request: the main thread's instructions (the
// event loop that serves the index) and all threads' (V8's compiler and marker included).
// cratekeeper's periodic work (cache polls, audit flushes) runs at wall-clock intervals while
// valgrind slows the process about 25-fold, so it would count 25 times its share: the polls and
// flushes are set to once a minute here.
//
// Usage: node bench/instructions.mjs [--requests 10000] [--rounds 3] [--warmup 30000]
// Installs Debian's valgrind if missing; loopback only; stops what it starts; writes
// bench/results/instructions-<time>.json. Figures, never assertions: this is not a test.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  ROOT,
  aptInstall,
  fmt,
  listeningUrl,
  log,
  loopbackClient,
  machine,
  median,
  option,
  resultFile,
  runMain,
  setLogTag,
  startCratekeeper,
  stopChild,
  table,
  tempDir,
  track,
  which,
} from './lib.mjs';
import { TARGET_CRATE, prepareIndex } from './hot-index.mjs';

const REQUESTS = Math.max(1000, Math.min(option('requests', 10_000), 200_000));
const ROUNDS = Math.max(1, Math.min(option('rounds', 3), 10));
const WARMUP = Math.min(option('warmup', 30_000), 500_000);
const CONNECTIONS = 8;
const START_TIMEOUT_MS = 300_000;

setLogTag('instructions');
const { agent, request } = loopbackClient({ maxSockets: 1 });

/** `count` GETs of `url` over CONNECTIONS keep-alive connections; throws unless each is a 200 of `bytes` bytes. */
async function fire(url, token, count, bytes) {
  const u = new URL(url);
  if (u.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback URL ${url}`);
  const head = `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: ${token}\r\n\r\n`;
  let sent = 0;
  const connection = () =>
    new Promise((resolve, reject) => {
      const socket = net.connect(Number(u.port), u.hostname);
      socket.setTimeout(120_000, () => socket.destroy(new Error(`no answer from ${url} within 120 s`)));
      let pending = Buffer.alloc(0);
      const next = () => {
        if (sent >= count) return socket.end(resolve);
        sent++;
        socket.write(head);
      };
      socket.on('connect', next);
      socket.on('error', reject);
      socket.on('data', (data) => {
        pending = Buffer.concat([pending, data]);
        for (;;) {
          const end = pending.indexOf('\r\n\r\n');
          if (end === -1) return;
          const headers = pending.subarray(0, end).toString('latin1');
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? NaN);
          if (pending.length < end + 4 + length) return;
          if (!headers.startsWith('HTTP/1.1 200 ') || length !== bytes) {
            return socket.destroy(new Error(`${url}: expected a 200 of ${bytes} bytes, got ${headers.split('\r\n')[0]}, ${length} bytes`));
          }
          pending = pending.subarray(end + 4 + length);
          next();
        }
      });
    });
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
}

function callgrindControl(pid, ...args) {
  const r = spawnSync('callgrind_control', [...args, String(pid)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')} ${pid}: ${r.stderr || r.stdout}`);
}

/** The instructions counted in dump `dump` of process `pid`: the main thread's, and all threads'. */
function dumpTotals(dir, pid, dump) {
  const prefix = `cg.${pid}.${dump}-`;
  const files = readdirSync(dir).filter((f) => f.startsWith(prefix));
  const totalOf = (f) => Number(/^totals: (\d+)/m.exec(readFileSync(path.join(dir, f), 'utf8'))?.[1] ?? NaN);
  const main = files.find((f) => f === `${prefix}01`);
  if (main === undefined) throw new Error(`no callgrind dump ${prefix}01 in ${dir}`);
  return { main: totalOf(main), all: files.reduce((sum, f) => sum + totalOf(f), 0) };
}

/** Starts `args` under callgrind (counting off); resolves once its stdout names its URL. */
async function startUnderCallgrind(name, args, env, dir) {
  const valgrind = [
    '--tool=callgrind',
    '--instr-atstart=no',
    '--separate-threads=yes',
    // V8 writes and rewrites machine code at run time.
    '--smc-check=all-non-file',
    `--callgrind-out-file=${path.join(dir, 'cg.%p')}`,
  ];
  const child = track(spawn('valgrind', [...valgrind, process.execPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }), name);
  return { child, url: await listeningUrl(child, `${name} under valgrind`, START_TIMEOUT_MS) };
}

/** Per-request instructions of one server, round by round. */
async function measure(name, args, env, url, token, bytes) {
  const dir = tempDir('ck-bench-callgrind-');
  log(`${name}: starting under callgrind`);
  const server = await startUnderCallgrind(name, args, env, dir);
  const target = `${server.url}${url}`;
  const pid = server.child.pid;
  log(`${name}: ${WARMUP} requests to warm up`);
  await fire(target, token, WARMUP, bytes);
  callgrindControl(pid, '--instr=on');
  await fire(target, token, 4000, bytes);
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    callgrindControl(pid, '--zero');
    await fire(target, token, REQUESTS, bytes);
    callgrindControl(pid, '--dump');
    const totals = dumpTotals(dir, pid, round);
    rounds.push({ mainPerRequest: totals.main / REQUESTS, allPerRequest: totals.all / REQUESTS });
    log(
      `${name}: round ${round}: ${fmt(totals.main / REQUESTS)} instructions a request on the main thread, ${fmt(totals.all / REQUESTS)} in all`,
    );
  }
  await stopChild(server.child, 60_000);
  return { rounds, main: median(rounds.map((r) => r.mainPerRequest)), all: median(rounds.map((r) => r.allPerRequest)) };
}

async function main() {
  const result = { benchmark: 'instructions', machine: machine(), settings: { REQUESTS, ROUNDS, WARMUP, CONNECTIONS } };
  if (!which('valgrind')) aptInstall(['valgrind']);
  if (!which('callgrind_control')) throw new Error('valgrind is installed but callgrind_control is missing');
  result.valgrind = spawnSync('valgrind', ['--version'], { encoding: 'utf8' }).stdout.trim();

  const dataDir = tempDir('ck-bench-data-');
  const ck = await startCratekeeper(dataDir);
  const { www, files } = await prepareIndex(request, ck);
  await stopChild(ck.child, 30_000);
  const hot = files[TARGET_CRATE];
  result.indexFile = hot;
  log(`hot index file ${hot.path}: ${hot.bytes} bytes`);

  const quiet = {
    CRATEKEEPER_LOG__LEVEL: 'warn',
    CRATEKEEPER_CACHE__POLL_INTERVAL_MS: '60000',
    CRATEKEEPER_AUDIT__FLUSH_INTERVAL_MS: '60000',
  };
  // As bin/cratekeeper runs it (the launcher's malloc settings), without the launcher's shell.
  const malloc = { MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_ARENA_MAX: '2' };
  const main = path.join(ROOT, 'dist/cli/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: build first (npx tsc -b)`);
  const serve = [main, 'serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir];
  result.cratekeeper = await measure('cratekeeper', serve, { ...process.env, ...quiet, ...malloc }, hot.path, ck.token, hot.bytes);
  const bare = [path.join(ROOT, 'bench/bare-node-server.mjs'), www];
  result.bareNode = await measure('bare node', bare, { ...process.env, BENCH_TOKEN: ck.token }, hot.path, ck.token, hot.bytes);
  result.ratio = { main: result.cratekeeper.main / result.bareNode.main, all: result.cratekeeper.all / result.bareNode.all };

  const row = (name, r) => [name, fmt(r.main), r.rounds.map((x) => fmt(x.mainPerRequest)).join(', '), fmt(r.all)];
  const out = [''];
  out.push(
    `index file ${hot.path}: ${hot.bytes} bytes; ${ROUNDS} rounds of ${REQUESTS} requests after ${WARMUP} to warm up; ${result.valgrind}`,
  );
  out.push(
    ...table(
      ['server', 'main thread, a request', 'rounds', 'all threads, a request'],
      [row('cratekeeper', result.cratekeeper), row('bare node', result.bareNode)],
    ),
  );
  out.push('');
  out.push(`cratekeeper / bare node: main thread ${fmt(result.ratio.main, 3)}x, all threads ${fmt(result.ratio.all, 3)}x`);
  console.log(out.join('\n'));
  const file = resultFile('instructions', new Date().toISOString());
  writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nresults: ${path.relative(ROOT, file)}`);
}

await runMain(main, () => agent.destroy());
