// Runs the fast tier (scripts/run-tests.mjs --fast) under other Node majors than the machine's, so
// that each supported Node is tested by `npm test`, which runs it after the whole suite. The Node
// binaries come from npm's `node@<major>` packages, installed into a cache folder outside the
// repository, only when missing. The SQLite driver differs by Node (src/adapters/metadata/
// sqlite-driver.ts): from Node 22 on it is better-sqlite3 13, which npm leaves out of a
// node_modules installed on Node 20. Each Node gets the lockfile's version of it in the cache
// (Node-API, prebuilt binaries inside the npm package: nothing is compiled), and
// native-modules-hook.mjs resolves it from there; the shared node_modules is never touched. After
// the first run nothing is downloaded. A Node that cannot be installed fails the run: it is never
// skipped.
//
//   npm run build && node scripts/fast-tier-on-nodes.mjs 22 24
//
// The cache is $CRATEKEEPER_NODE_CACHE, else $XDG_CACHE_HOME/cratekeeper-node, else
// ~/.cache/cratekeeper-node. A Node major stays at the version first installed; delete its folder
// there to take a newer one.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Packages installed per Node: those npm leaves out on the machine's Node (engines), or built for one Node ABI. */
const NATIVE_PACKAGES = ['better-sqlite3'];
const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
const HOOK = pathToFileURL(join(ROOT, 'scripts', 'native-modules-hook.mjs')).href;

const cacheRoot = process.env.CRATEKEEPER_NODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cratekeeper-node');

const log = (message) => console.error(`fast-tier-on-nodes: ${message}`);
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

/** Runs npm with the given Node first on PATH (npm, its install scripts and node-gyp then use it). */
function npm(args, cwd, env = {}) {
  execFileSync('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/** Fills `dir` through a temporary sibling folder, so an interrupted install never looks complete. */
function installInto(dir, fill) {
  const temp = `${dir}.partial`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  fill(temp);
  rmSync(dir, { recursive: true, force: true });
  renameSync(temp, dir);
}

function versionOf(nodeBin) {
  try {
    return execFileSync(nodeBin, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** The `node@<major>` package's binary, installed when missing. */
function nodeBinary(major) {
  const dir = join(cacheRoot, `node-${major}`, 'node');
  const bin = join(dir, 'node_modules', '.bin', 'node');
  if (versionOf(bin)?.startsWith(`v${major}.`)) return bin;
  const started = performance.now();
  installInto(dir, (temp) => {
    writeFileSync(join(temp, 'package.json'), JSON.stringify({ private: true }));
    npm(['install', `node@${major}`], temp);
  });
  const version = versionOf(bin);
  if (!version?.startsWith(`v${major}.`)) throw new Error(`node@${major} installed, but ${bin} reports ${version}`);
  log(`installed Node ${version} in ${seconds(started)}`);
  return bin;
}

/** The versions of the native packages that the lockfile pins. */
function lockedNativeVersions() {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  return Object.fromEntries(
    NATIVE_PACKAGES.map((name) => {
      const version = lock.packages[`node_modules/${name}`]?.version;
      if (!version) throw new Error(`package-lock.json does not pin ${name}`);
      return [name, version];
    }),
  );
}

/** A folder holding the native packages installed by this Node, (re)installed when the Node or a pinned version changed. */
function nativeModules(major, nodeBin) {
  const dir = join(cacheRoot, `node-${major}`, 'native');
  const wanted = { node: versionOf(nodeBin), dependencies: lockedNativeVersions() };
  const stamp = join(dir, 'built-for.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === JSON.stringify(wanted)) return dir;
  const started = performance.now();
  installInto(dir, (temp) => {
    writeFileSync(join(temp, 'package.json'), JSON.stringify({ private: true, dependencies: wanted.dependencies }));
    // npm runs under this Node (first on PATH), so that its engines checks and any install script see it.
    const env = { PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH}` };
    npm(['install', '--prefer-offline'], temp, env);
    // Open a database under this Node: a driver that cannot load fails here, not in the middle of the tests.
    execFileSync(nodeBin, ['-e', "new (require('better-sqlite3'))(':memory:').exec('select 1')"], { cwd: temp, stdio: 'inherit' });
    writeFileSync(join(temp, 'built-for.json'), JSON.stringify(wanted));
  });
  log(`installed ${NATIVE_PACKAGES.join(', ')} for Node ${wanted.node} in ${seconds(started)}`);
  return dir;
}

const majors = process.argv.slice(2);
// Node 20 takes better-sqlite3 12, compiled for one Node: it is tested as the machine's Node only.
if (majors.length === 0 || !majors.every((m) => /^\d+$/.test(m) && Number(m) >= 22)) {
  console.error('usage: node scripts/fast-tier-on-nodes.mjs MAJOR... (22 or later, for example 22 24)');
  process.exit(2);
}

/** The Node binary and the native packages for it; a failure ends the run, so that no Node is silently left out. */
function prepare(major) {
  try {
    const nodeBin = nodeBinary(major);
    return { nodeBin, native: nativeModules(major, nodeBin) };
  } catch (error) {
    log(`cannot run the fast tier under Node ${major}: ${error instanceof Error ? error.message : String(error)}`);
    log(`FAILED: Node ${major} could not be installed or set up (see npm's output above); the run is not complete without it`);
    process.exit(1);
  }
}

const failed = [];
for (const major of majors) {
  const { nodeBin, native } = prepare(major);
  const version = versionOf(nodeBin);
  log(`the fast tier under Node ${version}`);
  const started = performance.now();
  const run = spawnSync(nodeBin, [join(ROOT, 'scripts', 'run-tests.mjs'), '--fast'], {
    cwd: ROOT,
    stdio: 'inherit',
    env: {
      ...process.env,
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${HOOK}`.trim(),
      CRATEKEEPER_NATIVE_MODULES_DIR: native,
    },
  });
  log(`the fast tier under Node ${version}: ${run.status === 0 ? 'passed' : 'FAILED'} in ${seconds(started)}`);
  if (run.status !== 0) failed.push(version);
}
if (failed.length > 0) {
  console.error(`fast-tier-on-nodes: the fast tier failed under Node ${failed.join(', ')}`);
  process.exit(1);
}
