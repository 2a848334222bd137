// The rustdoc builder (docs/rustdoc.md): takes queued builds from the database (a lease, so one
// process builds each, and a build whose process died is taken again), and builds each in child
// processes, never on the event loop, in a job folder under `<data_dir>/docs-builds`
// (docs-build-folder.ts):
//
//  1. the published .crate is unpacked (`tar`), and every `.cargo` folder in it removed;
//  2. `cargo fetch` gets its dependencies through this registry, with a CARGO_HOME of the job's own
//     whose registry is this one and whose token is made for the version's publisher, `read` scope
//     only, expiring with the build; it is revoked, and removed from CARGO_HOME, right after;
//  3. `cargo doc --no-deps --offline` runs under `prlimit --as` (memory);
//  4. `target/doc` is packed (`tar`) and stored like an upload (DocsStore).
//
// Every step runs in the sandbox of docs-sandbox.ts (no network but for `cargo fetch`; no data
// folder, configuration, other process or other user's file). Where it does not work, every build
// fails saying why, unless `[docs] allow_unsandboxed` lets it run unsandboxed (logged once:
// docs/rustdoc.md names the gap). Either way cargo runs from an empty folder of ours
// with --manifest-path, so it reads no config file the crate or another user wrote, and every child
// gets an allow-listed environment (no secret of the server's).
//
// Every step has what remains of `[docs] timeout`. A failure is recorded with its log; the publish
// it came from is never touched.

import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { TokenIssuer } from '../auth/token-issuer.js';
import type { Catalog } from '../ports/catalog.js';
import type { Crates } from '../ports/crates.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { DocBuild, DocBuilds } from '../ports/doc-builds.js';
import {
  ancestorsOthersMayWrite,
  makeBuildRoot,
  makeJobFolders,
  removeAbandonedJobs,
  removeCargoConfigs,
  writeStreamTo,
  type JobFolders,
} from './docs-build-folder.js';
import { BoundedLog, runChild } from './docs-child.js';
import { childEnvironment, sandboxed, sandboxLayout, sandboxWorks, type SandboxLayout, type ServerSecrets } from './docs-sandbox.js';
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
  /** `[docs] allow_unsandboxed`: build where the sandbox does not work (else every build fails, saying why). */
  allowUnsandboxed: boolean;
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
  /** Where the builder tells what it could not do (no sandbox here). */
  warn: (message: string) => void;
  /** The server's environment: only the toolchain's variables are passed on (childEnv). */
  env: NodeJS.ProcessEnv;
  /** What a build must not see: the data folder (which also holds the builds), configuration, TLS files. */
  secrets: ServerSecrets;
}

class BuildFailure extends Error {}

export class DocBuilder {
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private isolation: Promise<boolean> | undefined;
  private buildRoot: Promise<string> | undefined;
  private readonly realPaths = new Map<string, string>();

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

  /** `<data_dir>/docs-builds`, made once; what dead processes left there is removed then. */
  private root(): Promise<string> {
    this.buildRoot ??= makeBuildRoot(this.deps.secrets.dataDir).then(async (root) => {
      await removeAbandonedJobs(root).catch(this.deps.onError);
      return root;
    });
    return this.buildRoot;
  }

  /** Whether the sandbox works here, tried once with `true` in a job folder of its own. */
  private isolated(): Promise<boolean> {
    this.isolation ??= (async () => {
      const folders = await makeJobFolders(await this.root());
      try {
        const { works, said } = await sandboxWorks(this.layout(folders), folders.work, this.childEnv(folders));
        if (works) return true;
        const open = await ancestorsOthersMayWrite(folders.job);
        this.deps.warn(
          'docs builder: the sandbox (unshare -r -m -n --pid with mounts) does not work here; ' +
            (this.settings.allowUnsandboxed
              ? 'rustdoc builds run unsandboxed (docs.allow_unsandboxed): build scripts and proc macros keep network access and can read and write whatever the server can, its data folder included (docs/rustdoc.md).'
              : 'every rustdoc build fails until it does, or until docs.allow_unsandboxed is set (docs/rustdoc.md); uploads from CI still work.') +
            (open.length > 0
              ? ` Other users may also write to ${open.join(', ')}, above the builds: a .cargo/config.toml planted there would be read by cargo; move the data folder.`
              : '') +
            ` The sandbox said:\n${said}`,
        );
        return false;
      } finally {
        await rm(folders.job, { recursive: true, force: true });
      }
    })();
    return this.isolation;
  }

  private layout(folders: JobFolders): SandboxLayout {
    return sandboxLayout(folders.job, folders.root, this.childEnv(folders), this.deps.secrets, (path) => this.realPath(path));
  }

  /** A secret's real path (a symlinked configuration), looked up once: these do not move while serving. */
  private realPath(path: string): string {
    let real = this.realPaths.get(path);
    if (real === undefined) {
      try {
        real = realpathSync(path);
      } catch {
        real = path; // missing: nothing to hide there
      }
      this.realPaths.set(path, real);
    }
    return real;
  }

  private async build(job: DocBuild): Promise<void> {
    const log = new BoundedLog(MAX_LOG_CHARS);
    const deadline = this.deps.now() + this.settings.timeoutMs;
    let outcome: { status: 'done' | 'failed'; docsKey: string | null };
    let folders: JobFolders | undefined;
    try {
      folders = await makeJobFolders(await this.root());
      const docsKey = await this.buildIn(job, folders, log, deadline);
      outcome = { status: 'done', docsKey };
    } catch (error) {
      log.append(`\n${error instanceof BuildFailure ? error.message : `the build failed: ${(error as Error).message}`}\n`);
      outcome = { status: 'failed', docsKey: null };
    } finally {
      if (folders) await rm(folders.job, { recursive: true, force: true }).catch(this.deps.onError);
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

  /** Runs one step, in the sandbox when it works here (with the network only when `network`). */
  private async step(log: BoundedLog, deadline: number, what: string, folders: JobFolders, network: boolean, command: string[]) {
    const left = deadline - this.deps.now();
    if (left <= 0) throw new BuildFailure(`the build ran out of time before ${what} ([docs] timeout)`);
    const env = this.childEnv(folders);
    const isolated = await this.isolated();
    const run = isolated
      ? sandboxed(this.layout(folders), network, folders.work, command)
      : { command: command[0]!, args: command.slice(1) };
    const shown = `${isolated ? `(sandbox${network ? ', with network' : ''}) ` : ''}${command.join(' ')}`;
    const code = await runChild({ ...run, cwd: folders.work, env, timeoutMs: left, log, shown });
    if (code === 'timeout')
      throw new BuildFailure(`${what} was stopped: the build took longer than ${this.settings.timeoutMs / 1000} s ([docs] timeout)`);
    if (code !== 0) throw new BuildFailure(`${what} failed (exit code ${code})`);
  }

  private async buildIn(job: DocBuild, folders: JobFolders, log: BoundedLog, deadline: number): Promise<string> {
    const blob = await this.deps.crates.findVersionBlob(job.crate, job.version);
    if (!blob) throw new BuildFailure(`version ${job.version} of ${job.crate} is not stored here`);
    const opened = await this.deps.blobs.open(blob.blobKey);
    if (!opened) throw new BuildFailure(`the .crate of ${job.crate} ${job.version} is missing from the blob store`);
    await writeStreamTo(folders.crateFile, opened.stream);
    if (!(await this.isolated())) {
      if (!this.settings.allowUnsandboxed) {
        throw new BuildFailure(
          'the build sandbox does not work on this host (user namespaces with mounts), and docs.allow_unsandboxed is off: ' +
            "nothing of the crate ran. Build scripts and proc macros unsandboxed would keep network access and the server's files; " +
            'upload docs from CI instead (cratekeeper-client docs upload), or set docs.allow_unsandboxed = true (docs/rustdoc.md).',
        );
      }
      log.append("(no sandbox here: build scripts keep network access and the server's files)\n");
    }
    const { source } = folders;
    await this.step(log, deadline, 'unpacking the crate', folders, false, [
      'tar',
      '-xzf',
      folders.crateFile,
      '-C',
      source,
      '--no-same-owner',
      '--no-same-permissions',
    ]);
    let packageDir: string | undefined;
    for (const name of await readdir(source)) if ((await stat(join(source, name))).isDirectory()) packageDir ??= name;
    if (!packageDir) throw new BuildFailure('the .crate holds no package folder');
    for (const removed of await removeCargoConfigs(source))
      log.append(`(removed ${removed.slice(source.length + 1)}: a package's cargo config is not used here)\n`);
    const manifest = join(source, packageDir, 'Cargo.toml');

    await this.fetchDependencies(job, folders, manifest, log, deadline);

    const memory = ['prlimit', `--as=${this.settings.memoryLimit}`, '--'];
    await this.step(log, deadline, 'cargo doc', folders, false, [
      ...memory,
      'cargo',
      'doc',
      '--no-deps',
      '--offline',
      '--locked',
      '--manifest-path',
      manifest,
    ]);
    const docDir = join(folders.target, 'doc');
    if (!(await stat(docDir).catch(() => undefined))?.isDirectory()) throw new BuildFailure('cargo doc wrote no target/doc');
    await this.step(log, deadline, 'packing the docs', folders, false, ['tar', '-czf', folders.archive, '-C', docDir, '.']);
    const archive = await readFile(folders.archive);
    try {
      return await this.deps.store.store(job.crate, job.version, archive);
    } catch (error) {
      throw new BuildFailure(`the docs were refused: ${(error as Error).message}`);
    }
  }

  /** `cargo fetch` through this registry with a read-only token that lives only for this step. */
  private async fetchDependencies(job: DocBuild, folders: JobFolders, manifest: string, log: BoundedLog, deadline: number) {
    const crate = await this.deps.catalog.crate(job.crate);
    const publisher = crate?.versions.find((v) => v.entry.vers === job.version)?.publishedBy;
    if (!publisher)
      throw new BuildFailure(`the publisher of ${job.crate} ${job.version} no longer exists; nobody's rights to fetch its dependencies`);
    const indexUrl = `sparse+${this.deps.publicUrl()}/index/`;
    await writeFile(
      join(folders.cargoHome, 'config.toml'),
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
    const credentials = join(folders.cargoHome, 'credentials.toml');
    try {
      await writeFile(credentials, `[registries.cratekeeper]\ntoken = "${token}"\n`, { mode: 0o600 });
      // The one step with the network (the registry's): only cargo runs in it, no code of the crate.
      await this.step(log, deadline, 'cargo fetch', folders, true, [
        'prlimit',
        `--as=${this.settings.memoryLimit}`,
        '--',
        'cargo',
        'fetch',
        '--manifest-path',
        manifest,
      ]);
    } finally {
      await rm(credentials, { force: true });
      await this.deps.tokens.revokeToken(record.id).catch(this.deps.onError);
    }
  }

  private childEnv(folders: JobFolders): NodeJS.ProcessEnv {
    return childEnvironment(this.deps.env, folders);
  }
}
