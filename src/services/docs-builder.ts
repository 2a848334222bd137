// The rustdoc builder (docs/rustdoc.md): takes queued builds from the database (a lease, so one
// process builds each, and a build whose process died is taken again), and builds each in child
// processes, never on the event loop:
//
//  1. the published .crate is unpacked into a temporary folder (`tar`);
//  2. `cargo fetch` gets its dependencies through this registry, with a CARGO_HOME of the job's own
//     whose registry is this one and whose token is made for the version's publisher, `read` scope
//     only, expiring with the build; it is revoked, and removed from CARGO_HOME, right after;
//  3. `cargo doc --no-deps --offline` runs under `prlimit --as` (memory) inside `unshare -rn` (a new
//     user and network namespace: build scripts and proc macros have no network at all), when
//     unshare works here; else with `--offline` only (logged once: docs/rustdoc.md names the gap);
//  4. `target/doc` is packed (`tar`) and stored like an upload (DocsStore).
//
// Every step has what remains of `[docs] timeout`. A failure is recorded with its log; the publish
// it came from is never touched.

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TokenIssuer } from '../auth/token-issuer.js';
import type { Catalog } from '../ports/catalog.js';
import type { Crates } from '../ports/crates.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { DocBuild, DocBuilds } from '../ports/doc-builds.js';
import { BoundedLog, runChild } from './docs-child.js';
import type { DocsService } from './docs.js';
import type { DocsStore } from './docs-store.js';

const MAX_LOG_CHARS = 64 * 1024;
/** The lease outlives the build's time limit by this much, so a live builder never loses it. */
const LEASE_MARGIN_MS = 60_000;

export interface DocBuilderSettings {
  concurrency: number;
  timeoutMs: number;
  /** Address space of the build's processes, in bytes (prlimit --as). */
  memoryLimit: number;
  /** How often an idle builder looks for queued builds. */
  pollMs: number;
}

export interface DocBuilderDeps {
  builds: DocBuilds;
  crates: Crates;
  catalog: Catalog;
  blobs: BlobStore;
  store: DocsStore;
  docs: DocsService;
  tokens: TokenIssuer;
  /** The registry's base URL (known once the server listens). */
  publicUrl: () => string;
  now: () => number;
  onError: (error: unknown) => void;
  /** Where the builder tells what it could not do (no unshare here). */
  warn: (message: string) => void;
  env: NodeJS.ProcessEnv;
}

class BuildFailure extends Error {}

/** Whether `unshare -rn` (a user and network namespace) works for this process. */
async function unshareWorks(env: NodeJS.ProcessEnv): Promise<boolean> {
  const log = new BoundedLog(1000);
  return (await runChild({ command: 'unshare', args: ['-rn', 'true'], cwd: tmpdir(), env, timeoutMs: 10_000, log })) === 0;
}

export class DocBuilder {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private isolation: Promise<boolean> | undefined;

  constructor(
    private readonly deps: DocBuilderDeps,
    private readonly settings: DocBuilderSettings,
  ) {}

  start(): void {
    this.schedule(0);
  }

  /** Looks for queued builds now (after a publish), instead of at the next poll. */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fill(), ms);
    this.timer.unref();
  }

  private async fill(): Promise<void> {
    try {
      while (!this.stopped && this.running < this.settings.concurrency) {
        const at = this.deps.now();
        const job = await this.deps.builds.claim(
          this.owner,
          new Date(at).toISOString(),
          new Date(at + this.settings.timeoutMs + LEASE_MARGIN_MS).toISOString(),
        );
        if (!job) break;
        this.running++;
        const done = this.build(job)
          .catch(this.deps.onError)
          .finally(() => {
            this.running--;
            this.inFlight.delete(done);
            this.schedule(0);
          });
        this.inFlight.add(done);
      }
    } catch (error) {
      this.deps.onError(error);
    }
    this.schedule(this.settings.pollMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all([...this.inFlight]);
  }

  private isolated(): Promise<boolean> {
    this.isolation ??= unshareWorks(this.deps.env).then((works) => {
      if (!works)
        this.deps.warn(
          'docs builder: `unshare -rn` does not work here; rustdoc builds run with --offline only (build scripts keep network access)',
        );
      return works;
    });
    return this.isolation;
  }

  private async build(job: DocBuild): Promise<void> {
    const log = new BoundedLog(MAX_LOG_CHARS);
    const deadline = this.deps.now() + this.settings.timeoutMs;
    const dir = mkdtempSync(join(tmpdir(), 'cratekeeper-docs-'));
    let outcome: { status: 'done' | 'failed'; docsKey: string | null };
    try {
      const docsKey = await this.buildIn(job, dir, log, deadline);
      outcome = { status: 'done', docsKey };
    } catch (error) {
      log.append(`\n${error instanceof BuildFailure ? error.message : `the build failed: ${(error as Error).message}`}\n`);
      outcome = { status: 'failed', docsKey: null };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const at = new Date(this.deps.now()).toISOString();
    const { finished, previousDocsKey } = await this.deps.builds.finish(job.id, this.owner, { ...outcome, log: log.toString() }, at);
    if (!finished) {
      // Our lease was taken (we ran past it): the other builder's result stands.
      if (outcome.docsKey) await this.deps.store.remove(outcome.docsKey);
      return;
    }
    if (previousDocsKey && previousDocsKey !== outcome.docsKey) await this.deps.store.remove(previousDocsKey);
    if (outcome.status === 'done') await this.deps.docs.applyRetention(job.crate);
  }

  private async step(
    log: BoundedLog,
    deadline: number,
    what: string,
    command: string,
    args: string[],
    cwd: string,
    env: NodeJS.ProcessEnv,
  ) {
    const left = deadline - this.deps.now();
    if (left <= 0) throw new BuildFailure(`the build ran out of time before ${what} ([docs] timeout)`);
    const code = await runChild({ command, args, cwd, env, timeoutMs: left, log });
    if (code === 'timeout')
      throw new BuildFailure(`${what} was stopped: the build took longer than ${this.settings.timeoutMs / 1000} s ([docs] timeout)`);
    if (code !== 0) throw new BuildFailure(`${what} failed (exit code ${code})`);
  }

  private async buildIn(job: DocBuild, dir: string, log: BoundedLog, deadline: number): Promise<string> {
    const blob = await this.deps.crates.findVersionBlob(job.crate, job.version);
    if (!blob) throw new BuildFailure(`version ${job.version} of ${job.crate} is not stored here`);
    const crateFile = join(dir, 'package.crate');
    const chunks: Buffer[] = [];
    const opened = await this.deps.blobs.open(blob.blobKey);
    if (!opened) throw new BuildFailure(`the .crate of ${job.crate} ${job.version} is missing from the blob store`);
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) chunks.push(chunk);
    writeFileSync(crateFile, Buffer.concat(chunks));
    const source = join(dir, 'source');
    const cargoHome = join(dir, 'cargo-home');
    const target = join(dir, 'target');
    for (const d of [source, cargoHome]) mkdirSync(d);
    const baseEnv = this.childEnv(cargoHome, target);
    await this.step(
      log,
      deadline,
      'unpacking the crate',
      'tar',
      ['-xzf', crateFile, '-C', source, '--no-same-owner', '--no-same-permissions'],
      dir,
      baseEnv,
    );
    const [packageDir] = readdirSync(source).filter((n) => statSync(join(source, n)).isDirectory());
    if (!packageDir) throw new BuildFailure('the .crate holds no package folder');
    const cwd = join(source, packageDir);

    await this.fetchDependencies(job, cargoHome, cwd, log, deadline, baseEnv);

    const memory = ['prlimit', `--as=${this.settings.memoryLimit}`, '--'];
    const docArgs = ['doc', '--no-deps', '--offline', '--locked'];
    if (await this.isolated()) {
      await this.step(log, deadline, 'cargo doc', 'unshare', ['-rn', '--', ...memory, 'cargo', ...docArgs], cwd, baseEnv);
    } else {
      log.append('(no network namespace here: cargo doc runs with --offline only)\n');
      await this.step(log, deadline, 'cargo doc', memory[0]!, [...memory.slice(1), 'cargo', ...docArgs], cwd, baseEnv);
    }
    const docDir = join(target, 'doc');
    if (!existsSync(docDir)) throw new BuildFailure('cargo doc wrote no target/doc');
    const archive = join(dir, 'docs.tar.gz');
    await this.step(log, deadline, 'packing the docs', 'tar', ['-czf', archive, '-C', docDir, '.'], dir, baseEnv);
    try {
      return await this.deps.store.store(job.crate, job.version, readFileSync(archive));
    } catch (error) {
      throw new BuildFailure(`the docs were refused: ${(error as Error).message}`);
    }
  }

  /** `cargo fetch` through this registry with a read-only token that lives only for this step. */
  private async fetchDependencies(
    job: DocBuild,
    cargoHome: string,
    cwd: string,
    log: BoundedLog,
    deadline: number,
    env: NodeJS.ProcessEnv,
  ) {
    const crate = await this.deps.catalog.crate(job.crate);
    const publisher = crate?.versions.find((v) => v.entry.vers === job.version)?.publishedBy;
    if (!publisher)
      throw new BuildFailure(`the publisher of ${job.crate} ${job.version} no longer exists; nobody's rights to fetch its dependencies`);
    const indexUrl = `sparse+${this.deps.publicUrl()}/index/`;
    writeFileSync(
      join(cargoHome, 'config.toml'),
      [
        '[registries.cratekeeper]',
        `index = "${indexUrl}"`,
        'credential-provider = "cargo:token"',
        '',
        '[source.crates-io]',
        'replace-with = "cratekeeper"',
        '',
        '[source.cratekeeper]',
        `registry = "${indexUrl}"`,
        '',
        '[net]',
        'retry = 1',
        '',
      ].join('\n'),
    );
    const { token, record } = await this.deps.tokens.createToken(publisher, `docs build ${job.crate} ${job.version}`, {
      scopes: ['read'],
      expiresAt: new Date(Math.max(deadline, this.deps.now() + 60_000)),
      origin: 'docs-build',
    });
    const credentials = join(cargoHome, 'credentials.toml');
    try {
      writeFileSync(credentials, `[registries.cratekeeper]\ntoken = "${token}"\n`, { mode: 0o600 });
      await this.step(log, deadline, 'cargo fetch', 'prlimit', [`--as=${this.settings.memoryLimit}`, '--', 'cargo', 'fetch'], cwd, env);
    } finally {
      rmSync(credentials, { force: true });
      await this.deps.tokens.revokeToken(record.id).catch(this.deps.onError);
    }
  }

  private childEnv(cargoHome: string, target: string): NodeJS.ProcessEnv {
    const { env } = this.deps;
    const keep = ['PATH', 'HOME', 'RUSTUP_HOME', 'RUSTUP_TOOLCHAIN', 'LANG', 'TMPDIR'];
    const out: NodeJS.ProcessEnv = {};
    for (const name of keep) if (env[name] !== undefined) out[name] = env[name];
    // rustup finds its toolchains through RUSTUP_HOME, which defaults to $HOME/.rustup.
    out.RUSTUP_HOME ??= join(env.HOME ?? '/root', '.rustup');
    if (env.CARGO_HOME && !env.PATH?.includes(env.CARGO_HOME)) out.PATH = `${env.PATH ?? ''}:${join(env.CARGO_HOME, 'bin')}`;
    return {
      ...out,
      CARGO_HOME: cargoHome,
      CARGO_TARGET_DIR: target,
      CARGO_TERM_COLOR: 'never',
      CARGO_NET_RETRY: '1',
    };
  }
}
