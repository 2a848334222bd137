// Runs the compiled test suite with node's test runner: unit and in-process HTTP tests in
// parallel, then the tests that start servers and drive the real cargo one file at a time (the
// machines have two cores; parallel cargo runs make timing-sensitive tests flaky).
// Any test that is skipped counts as a failure: a test that cannot run here must say so loudly.
//
//   node scripts/run-tests.mjs [--fast] [SUBSTRING...]
// --fast: the edit-test tier, with no package installs and no external services: unit, HTTP,
// security, fuzz, client and the SQLite and file-system contract tests (PostgreSQL, S3, the
// end-to-end tests and the client package's install test are left to the whole suite, `npm test`).
// The tests of every workspace package (packages/*/dist/test) run beside the server's (dist/test).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  let files = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) files = files.concat(testFiles(path));
    else if (name.endsWith('.test.js')) files.push(path);
  }
  return files.sort();
}

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const needsServices = (f) =>
  f.includes('/e2e/') || (f.includes('/contract/') && /postgres|s3/.test(f)) || f.includes('/client/package-install.');
const packageTests = existsSync('packages')
  ? readdirSync('packages')
      .map((name) => join('packages', name, 'dist/test'))
      .filter((dir) => existsSync(dir))
  : [];
// A compiled test whose source is gone (deleted or renamed since the last build) is left out: tsc
// never removes what it wrote, and a stale copy would test code that no longer exists.
const sourceOf = (f) => f.replace(/(^|\/)dist\/test\//, '$1test/').replace(/\.js$/, '.ts');
const all = ['dist/test', ...packageTests]
  .flatMap(testFiles)
  .filter((f) => existsSync(sourceOf(f)))
  .filter((f) => !fast || !needsServices(f));
const serial = all.filter((f) => f.includes('/e2e/'));
const parallel = all.filter((f) => !serial.includes(f));
const filter = args.filter((a) => a !== '--fast');
const pick = (files) => (filter.length ? files.filter((f) => filter.some((x) => f.includes(x))) : files);

if (pick(all).length === 0) {
  console.error(`error: no test file matches ${filter.length ? filter.join(' ') : 'the suite'}; was the build run?`);
  process.exit(1);
}

let failed = false;
for (const [files, concurrency] of [
  [pick(parallel), 2],
  [pick(serial), 1],
]) {
  if (files.length === 0) continue;
  const run = spawnSync(
    process.execPath,
    ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  );
  process.stdout.write(run.stdout);
  if (run.status !== 0) failed = true;
  const skipped = /^ℹ (skipped|todo) (\d+)/gm;
  for (const m of run.stdout.matchAll(skipped)) {
    if (Number(m[2]) > 0) {
      console.error(`error: ${m[2]} test(s) ${m[1]}; a test that cannot run here must fail, not skip`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
