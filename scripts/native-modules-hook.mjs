// Preloaded (`--import`) when the fast tier runs under another Node than the one node_modules was
// installed with (scripts/fast-tier-on-nodes.mjs): the packages listed in the package.json of
// CRATEKEEPER_NATIVE_MODULES_DIR (better-sqlite3 13, which npm leaves out of a node_modules
// installed on Node 20) are resolved from that folder, which holds them as installed by this Node,
// when the repository's own files ask for them; every other package, and any import from outside
// the repository (a test that checks what happens where nothing is installed), is resolved as usual.
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
const repository = new URL('..', import.meta.url).href;

if (isMainThread) {
  module.registerHooks({
    resolve(specifier, context, nextResolve) {
      const url = context.parentURL?.startsWith(repository) ? targets.get(specifier) : undefined;
      return url === undefined ? nextResolve(specifier, context) : { url, shortCircuit: true };
    },
  });
}
