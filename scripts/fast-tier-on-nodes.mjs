// Runs the fast tier (scripts/run-tests.mjs --fast) under other Node majors than the machine's, so
// that each supported Node is tested by `npm test`. The Node binaries come from npm's `node@<major>`
// packages, installed into a cache folder outside the repository, only when missing. better-sqlite3
// is a native addon compiled for one Node ABI: each Node gets its own build of it in the cache
// (prebuilt when prebuild-install can download one, else compiled with the headers that the `node`
// package ships), and native-modules-hook.mjs resolves it from there; the shared node_modules is
// never touched. After the first run nothing is downloaded.
//
//   npm run build && node scripts/fast-tier-on-nodes.mjs 22 24
//
// The cache is $CRATEKEEPER_NODE_CACHE, else $XDG_CACHE_HOME/cratekeeper-node, else
// ~/.cache/cratekeeper-node. A Node major stays at the version first installed; delete its folder
// there to take a newer one.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Packages with a compiled addon, built per Node; everything else in node_modules is JavaScript or Node-API. */
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

/** The folder of the `node` package's platform binary, which holds include/node (for node-gyp's --nodedir). */
function nodeHeaders(nodeBin) {
  const platforms = join(dirname(dirname(nodeBin)), 'node', 'node_modules');
  const found = readdirSync(platforms)
    .map((name) => join(platforms, name))
    .find((dir) => existsSync(join(dir, 'include', 'node', 'node_version.h')));
  if (!found) throw new Error(`no include/node headers under ${platforms}`);
  return found;
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

/** A folder holding the native packages built for this Node, (re)built when the Node or a pinned version changed. */
function nativeModules(major, nodeBin) {
  const dir = join(cacheRoot, `node-${major}`, 'native');
  const wanted = { node: versionOf(nodeBin), dependencies: lockedNativeVersions() };
  const stamp = join(dir, 'built-for.json');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === JSON.stringify(wanted)) return dir;
  const started = performance.now();
  installInto(dir, (temp) => {
    writeFileSync(join(temp, 'package.json'), JSON.stringify({ private: true, dependencies: wanted.dependencies }));
    const env = {
      PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH}`,
      npm_config_nodedir: nodeHeaders(nodeBin),
    };
    npm(['install', '--prefer-offline'], temp, env);
    // Open a database under this Node: a build for another ABI fails here, not in the middle of the tests.
    execFileSync(nodeBin, ['-e', "new (require('better-sqlite3'))(':memory:').exec('select 1')"], { cwd: temp, stdio: 'inherit' });
    writeFileSync(join(temp, 'built-for.json'), JSON.stringify(wanted));
  });
  log(`built ${NATIVE_PACKAGES.join(', ')} for Node ${wanted.node} in ${seconds(started)}`);
  return dir;
}

const majors = process.argv.slice(2);
if (majors.length === 0 || !majors.every((m) => /^\d+$/.test(m))) {
  console.error('usage: node scripts/fast-tier-on-nodes.mjs MAJOR... (for example 22 24)');
  process.exit(2);
}

const failed = [];
for (const major of majors) {
  const nodeBin = nodeBinary(major);
  const native = nativeModules(major, nodeBin);
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
