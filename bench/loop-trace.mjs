// Loaded into a server under test with `node --import ./bench/loop-trace.mjs` (hot-path-tail.mjs does
// it through NODE_OPTIONS): records, with timestamps, what holds the event loop, without any change
// to the server's code, so that an older build can be traced the same way.
//
// - every SQLite statement that takes LOOP_TRACE_MIN_MS or longer (default 1 ms) on the thread that
//   runs it, with its SQL (a COMMIT's time includes its fsyncs and any automatic WAL checkpoint);
// - every garbage collection of LOOP_TRACE_MIN_MS or longer (kind and duration);
// - stalls: a 5 ms interval timer that fired LOOP_TRACE_STALL_MS (default 20 ms) or more late;
// - the event loop delay histogram (perf_hooks.monitorEventLoopDelay, 1 ms resolution), reset when
//   LOOP_TRACE_FILE.reset appears (the benchmark creates it when its measured window starts).
// Everything is kept in memory (bounded) and written as JSON to LOOP_TRACE_FILE when the process
// exits, so the tracing itself does no I/O while it is measured. Thread-pool threads are traced too
// (each writes its own file, suffixed with its thread id), but only the main thread's loop matters.

import { writeFileSync, existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { isMainThread, threadId } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const FILE = process.env.LOOP_TRACE_FILE;
const MIN_MS = Number(process.env.LOOP_TRACE_MIN_MS ?? 1);
const STALL_MS = Number(process.env.LOOP_TRACE_STALL_MS ?? 20);
const MAX_EVENTS = 200_000;

if (FILE && isMainThread) install();

function install() {
  const origin = performance.timeOrigin;
  const events = [];
  const push = (event) => {
    if (events.length < MAX_EVENTS) events.push(event);
  };
  const wall = (t) => Math.round(origin + t); // performance.now() → epoch ms

  // SQLite: wrap the statement methods of whichever better-sqlite3 the server loads.
  const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
  for (const name of ['better-sqlite3-12', 'better-sqlite3']) {
    let Database;
    try {
      Database = require(name);
    } catch {
      continue;
    }
    const probe = new Database(':memory:');
    const Statement = probe.prepare('select 1').constructor;
    probe.close();
    for (const method of ['run', 'all', 'get', 'iterate']) {
      const original = Statement.prototype[method];
      Statement.prototype[method] = function traced(...args) {
        const start = performance.now();
        try {
          return original.apply(this, args);
        } finally {
          const ms = performance.now() - start;
          if (ms >= MIN_MS) push({ kind: 'sql', at: wall(start), ms: +ms.toFixed(2), sql: this.source.slice(0, 80) });
        }
      };
    }
    for (const method of ['exec', 'pragma']) {
      const original = Database.prototype[method];
      Database.prototype[method] = function traced(...args) {
        const start = performance.now();
        try {
          return original.apply(this, args);
        } finally {
          const ms = performance.now() - start;
          if (ms >= MIN_MS) push({ kind: 'sql', at: wall(start), ms: +ms.toFixed(2), sql: `${method}: ${String(args[0]).slice(0, 70)}` });
        }
      };
    }
  }

  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      if (entry.duration >= MIN_MS)
        push({ kind: 'gc', at: wall(entry.startTime), ms: +entry.duration.toFixed(2), gcKind: entry.detail?.kind });
  });
  gc.observe({ entryTypes: ['gc'] });

  // A stall's cpuMs is the process's CPU time (all threads) while it lasted: far below its length,
  // the process was waiting (for the disk, or for a core the machine's other work held).
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  const tick = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const late = now - last - 5;
    if (late >= STALL_MS) {
      const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      push({ kind: 'stall', at: wall(last + 5), ms: +late.toFixed(1), cpuMs: +cpuMs.toFixed(1) });
    }
    last = now;
    lastCpu = cpu;
  }, 5);
  tick.unref();

  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  let resetAt = Date.now();
  const resetFile = `${FILE}.reset`;
  const watch = setInterval(() => {
    if (existsSync(resetFile)) {
      rmSync(resetFile, { force: true });
      delay.reset();
      resetAt = Date.now();
      push({ kind: 'mark', at: resetAt, ms: 0, what: 'measure-start' });
    }
  }, 200);
  watch.unref();

  process.once('exit', () => {
    delay.disable();
    const q = (p) => +(delay.percentile(p) / 1e6).toFixed(2);
    const loopDelayMs = { since: resetAt, p50: q(50), p99: q(99), p999: q(99.9), max: +(delay.max / 1e6).toFixed(2), count: delay.count };
    const file = threadId === 0 ? FILE : `${FILE}.${threadId}`;
    writeFileSync(file, JSON.stringify({ pid: process.pid, loopDelayMs, events }));
  });
}
