// Preloaded (`--import`) when the fast tier runs under another Node than the one node_modules was
// installed with (scripts/fast-tier-on-nodes.mjs): a native addon is compiled for one Node ABI, so
// the packages listed in the package.json of CRATEKEEPER_NATIVE_MODULES_DIR (better-sqlite3) are
// resolved from that folder, which holds builds of them for this Node, while every other package
// comes from the shared node_modules.
// module.registerHooks covers both `import` and `require` and runs in this thread (Node 22.15+).
// Worker threads are left alone: the CPU pool's workers import no native package (src/workers
// imports only src/domain and src/lib), and one run with hooks in them met an internal assertion of
// Node 22's module loader in a piscina worker.
import { readFileSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';

const dir = process.env.CRATEKEEPER_NATIVE_MODULES_DIR;
if (!dir) throw new Error('native-modules-hook: CRATEKEEPER_NATIVE_MODULES_DIR is not set');
if (typeof module.registerHooks !== 'function') {
  throw new Error(`native-modules-hook: Node ${process.version} has no module.registerHooks (22.15 or later needed)`);
}

// Resolved before the hook exists: on Node 24 createRequire's resolve goes through the hooks too.
const resolveThere = createRequire(`${dir}/package.json`).resolve;
const packages = Object.keys(JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')).dependencies);
const targets = new Map(packages.map((name) => [name, pathToFileURL(resolveThere(name)).href]));

if (isMainThread) {
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const url = targets.get(specifier);
      return url === undefined ? nextResolve(specifier, context) : { url, shortCircuit: true };
    },
  });
}
