// Benchmark of mirroring: cargo resolving and fetching a project with ~100 dependencies through a
// cratekeeper mirror, against the same through the upstream directly, in one run.
//
// The upstream is a cratekeeper (auth required) holding real crates from Debian's librust-*-dev
// packages (installed when missing: needs root); the mirror reaches it with a token from a .netrc.
// The project depends directly on every crate of the closure, so its lockfile has one entry per
// crate. For each target (upstream, mirror) we time `cargo generate-lockfile` and `cargo fetch`:
//   * cold: a fresh CARGO_HOME (and, for the mirror, its cache empty: every request goes upstream);
//   * mirror cache warm: a fresh CARGO_HOME again, the mirror's cache filled by the cold run;
//   * warm: the same CARGO_HOME again, Cargo.lock removed (index revalidation; crates already local).
// Each warm scenario runs --rounds times (default 3); the median is reported. Figures, not asserts.
//
// Usage: npm run build && node bench/mirror.mjs [--rounds 3]
// Loopback only; every server it starts is stopped at the end, also on failure.

import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(ROOT, 'dist', p));
const { readDebianCrates, closureOf } = await dist('test/support/debian-crates.js');
const { ensureDebianPackages } = await dist('test/support/apt.js');
const { publishAll } = await dist('test/support/mirror-upstreams.js');
const { startRegistry } = await dist('test/support/registry-server.js');
const { CargoSandbox } = await dist('test/support/cargo.js');
const { makeTempDir } = await import('@cratekeeper/test-support/temp-dir');

const roundsArg = process.argv.indexOf('--rounds');
const ROUNDS = roundsArg === -1 ? 3 : Math.max(1, Number(process.argv[roundsArg + 1]) || 3);
const PACKAGES = [
  'librust-tokio-dev',
  'librust-clap-dev',
  'librust-chrono-dev',
  'librust-rand-dev',
  'librust-hyper-dev',
  'librust-serde-json-dev',
];
const ROOTS = ['tokio', 'clap', 'chrono', 'rand', 'hyper', 'serde_json'];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const servers = [];

async function timed(cargo, args, cwd, env) {
  const start = process.hrtime.bigint();
  const result = await cargo.run(args, { cwd, env, timeoutMs: 600_000 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.code !== 0) throw new Error(`cargo ${args.join(' ')} failed:\n${result.stderr.slice(-3000)}`);
  return ms;
}

async function main() {
  ensureDebianPackages(PACKAGES);
  const crates = closureOf(ROOTS, readDebianCrates(), { optional: true });
  console.error(`corpus: ${crates.length} crates (closure of ${ROOTS.join(', ')}, optional dependencies included)`);

  const upstream = await startRegistry({ env: { CRATEKEEPER_RATE_LIMITS__PUBLISH_PER_MINUTE: '1000000' } });
  servers.push(upstream);
  await publishAll(upstream.url, upstream.adminToken, crates);

  const dir = makeTempDir('cratekeeper-bench-mirror-');
  const netrc = path.join(dir, 'netrc');
  writeFileSync(netrc, `machine 127.0.0.1:${new URL(upstream.url).port} login x password ${upstream.adminToken}\n`, { mode: 0o600 });
  const config = path.join(dir, 'cratekeeper.toml');
  writeFileSync(
    config,
    `[[upstreams]]\nname = "up"\nindex_url = "${upstream.url}/index/"\nindex_ttl_seconds = 60\nauth = { netrc = "${netrc}" }\n`,
  );
  const mirror = await startRegistry({ args: ['--config', config] });
  servers.push(mirror);

  const deps = [...new Map(crates.map((c) => [c.name, c])).values()].map((c) => `${c.name} = "=${c.version}"`);
  const targets = {
    upstream: { index: `${upstream.url}/index/`, token: upstream.adminToken },
    mirror: { index: `${mirror.url}/mirrors/up/index/`, token: mirror.adminToken },
  };
  const results = {};
  for (const [name, target] of Object.entries(targets)) {
    const sandbox = () => {
      const cargo = new CargoSandbox('ck');
      cargo.configure(target.index, '[source.crates-io]\nreplace-with = "ck"\n');
      return cargo;
    };
    const env = { CARGO_REGISTRIES_CK_TOKEN: target.token };
    const run = async (cargo, app) => {
      rmSync(path.join(app, 'Cargo.lock'), { force: true });
      return { lock: await timed(cargo, ['generate-lockfile'], app, env), fetch: await timed(cargo, ['fetch'], app, env) };
    };
    const cold = sandbox();
    const app = cold.createApp('bench-app', deps, 'fn main() {}\n');
    const r = { cold: await run(cold, app) };
    if (name === 'mirror') {
      const samples = [];
      for (let i = 0; i < ROUNDS; i++) {
        const fresh = sandbox();
        samples.push(await run(fresh, fresh.createApp('bench-app', deps, 'fn main() {}\n')));
      }
      r.cacheWarm = { lock: median(samples.map((s) => s.lock)), fetch: median(samples.map((s) => s.fetch)) };
    }
    const warm = [];
    for (let i = 0; i < ROUNDS; i++) warm.push(await run(cold, app));
    r.warm = { lock: median(warm.map((s) => s.lock)), fetch: median(warm.map((s) => s.fetch)) };
    const lock = path.join(app, 'Cargo.lock');
    r.packages = existsSync(lock) ? (spawnSync('grep', ['-c', '^name = ', lock], { encoding: 'utf8' }).stdout.trim() | 0) - 1 : undefined;
    results[name] = r;
    console.error(name, JSON.stringify(r));
  }
  const out = {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cargo: spawnSync('cargo', ['--version'], { encoding: 'utf8' }).stdout.trim(),
    crates: crates.length,
    rounds: ROUNDS,
    results,
  };
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  const file = path.join(ROOT, 'bench', 'results', `mirror-${out.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2));
  const f = (ms) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`| scenario | generate-lockfile | fetch |\n|---|---|---|`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`| ${name}, cold | ${f(r.cold.lock)} | ${f(r.cold.fetch)} |`);
    if (r.cacheWarm) console.log(`| ${name}, mirror cache warm, fresh CARGO_HOME | ${f(r.cacheWarm.lock)} | ${f(r.cacheWarm.fetch)} |`);
    console.log(`| ${name}, warm | ${f(r.warm.lock)} | ${f(r.warm.fetch)} |`);
  }
  console.log(`(${results.mirror.packages} packages in Cargo.lock; results in ${path.relative(ROOT, file)})`);
}

try {
  await main();
} finally {
  for (const s of servers) await s.stop().catch(() => {});
}
