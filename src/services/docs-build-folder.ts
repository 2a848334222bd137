// The folders a docs build works in, all with fs/promises (a build's target/ can hold thousands of
// files: removing it must not stall the event loop). They live in `<data_dir>/docs-builds`, mode
// 0700: a folder no other local user can enter, whose ancestors are the operator's (not /tmp, where
// anyone may plant a `.cargo/config.toml` that cargo would read from every ancestor of its working
// folder). Each job's folder is named after its process, so a restarted server can remove what a
// dead one left behind without touching a sibling worker's build.

import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface JobFolders {
  job: string;
  crateFile: string;
  source: string;
  cargoHome: string;
  target: string;
  /** cargo's working folder: empty, ours (cargo reads config from it and its ancestors). */
  work: string;
  home: string;
  tmp: string;
  /** The sandbox's root mount point. */
  root: string;
  archive: string;
}

export async function makeBuildRoot(dataDir: string): Promise<string> {
  const root = join(dataDir, 'docs-builds');
  await mkdir(root, { recursive: true, mode: 0o700 });
  await chmod(root, 0o700);
  return root;
}

/**
 * The ancestors of `dir` that another user may write to (group or others' write bit, like /tmp):
 * there, anyone could plant a `.cargo/config.toml` that an unsandboxed cargo would read.
 */
export async function ancestorsOthersMayWrite(dir: string): Promise<string[]> {
  const open: string[] = [];
  for (let at = dirname(dir); ; at = dirname(at)) {
    const info = await stat(at).catch(() => undefined);
    if (info && (info.mode & 0o022) !== 0) open.push(at);
    if (at === dirname(at)) return open;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the job folders of processes that no longer run (a crash, a SIGKILL). */
export async function removeAbandonedJobs(buildRoot: string): Promise<void> {
  for (const name of await readdir(buildRoot)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid))
      await rm(join(buildRoot, name), { recursive: true, force: true });
  }
}

export async function makeJobFolders(buildRoot: string): Promise<JobFolders> {
  const job = await mkdtemp(join(buildRoot, `${process.pid}-`));
  const folders: JobFolders = {
    job,
    crateFile: join(job, 'package.crate'),
    source: join(job, 'source'),
    cargoHome: join(job, 'cargo-home'),
    target: join(job, 'target'),
    work: join(job, 'work'),
    home: join(job, 'home'),
    tmp: join(job, 'tmp'),
    root: join(job, 'root'),
    archive: join(job, 'docs.tar.gz'),
  };
  for (const dir of [folders.source, folders.cargoHome, folders.work, folders.home, folders.tmp, folders.root]) await mkdir(dir);
  return folders;
}

export async function writeStreamTo(file: string, stream: Readable): Promise<void> {
  await pipeline(stream, createWriteStream(file, { mode: 0o600 }));
}

/**
 * Removes every `.cargo` folder of an unpacked package: its config could name a rustc-wrapper or
 * another source for cargo. cargo is also run from a folder of ours, so it would not read it anyway.
 */
export async function removeCargoConfigs(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === '.cargo') {
      await rm(path, { recursive: true, force: true });
      removed.push(path);
    } else if (entry.isDirectory() && !entry.isSymbolicLink()) {
      removed.push(...(await removeCargoConfigs(path)));
    }
  }
  return removed;
}
