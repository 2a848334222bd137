// The sandbox every step of a docs build runs in (docs/rustdoc.md, "Isolation of the builder").
// A build runs code the publisher wrote (build scripts, proc macros) as the server's own user, so
// it must not see what that user can see. Each step runs under
//
//   unshare -r -m [-n] --pid --fork --kill-child
//
// (a user, mount and PID namespace, and a network namespace for every step but `cargo fetch`), in
// which a short shell script builds a root of its own and chroots into it:
//
//  - an empty tmpfs, made read-only once built, into which only what the toolchain needs is bound
//    read-only (system folders, RUSTUP_HOME, the folders on PATH), with a fresh /proc (the PID
//    namespace: no other process, so no server's /proc/<pid>/environ), /dev, and empty /tmp and
//    /dev/shm;
//  - the registry's data folder and its configuration's folder covered by an empty read-only
//    tmpfs, and its configuration and TLS files by /dev/null, wherever a bound folder holds them;
//  - the job's folder bound read-write at its own path: the only place a build can write.
//
// Because every ancestor of the job's folder inside that root is a folder of this tmpfs, cargo
// finds no `.cargo/config.toml` another user could plant above it (cargo reads one from each
// ancestor of its working directory). `--kill-child` ends every process of the build with it.

import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { BoundedLog, runChild } from './docs-child.js';

export interface SandboxLayout {
  /** The job's folder, bound read-write at its own path. */
  job: string;
  /** An empty folder (in the job's folder) where the sandbox's root is mounted. */
  root: string;
  /** Folders bound read-only, at their own paths, when they exist. */
  visible: string[];
  /** Folders covered by an empty read-only tmpfs (created in the root when missing). */
  hiddenFolders: string[];
  /** Files covered by /dev/null where they appear in the root. */
  hiddenFiles: string[];
}

// $1 root, $2 job, $3 working folder, then "visible" folders, "--", hidden folders, "--", hidden
// files, "--", and the command. A symlink (merged /usr: /bin -> usr/bin) is copied as a symlink.
const SCRIPT = `set -eu
R=$1 JOB=$2 WD=$3; shift 3
mount -t tmpfs -o mode=0755 cratekeeper-build "$R"
while [ "$1" != -- ]; do
  if [ -L "$1" ]; then mkdir -p "$R$(dirname "$1")"; ln -s "$(readlink "$1")" "$R$1"
  elif [ -d "$1" ]; then mkdir -p "$R$1"; mount --rbind "$1" "$R$1"; mount -o remount,bind,ro "$R$1"; fi
  shift
done; shift
mkdir -p "$R/dev" "$R/proc" "$R/tmp"
mount --rbind /dev "$R/dev"
if [ -d "$R/dev/shm" ]; then mount -t tmpfs -o mode=1777 cratekeeper-shm "$R/dev/shm"; fi
mount -t proc proc "$R/proc"
mount -t tmpfs -o mode=1777 cratekeeper-tmp "$R/tmp"
while [ "$1" != -- ]; do
  mkdir -p "$R$1" 2>/dev/null || true
  if [ -d "$R$1" ]; then
    mount -t tmpfs -o mode=0755 cratekeeper-hidden "$R$1"
    case "$JOB/" in "$1"/*) mkdir -p "$R$JOB" ;; esac  # the job's mount point, before it turns read-only
    mount -o remount,ro "$R$1"
  fi
  shift
done; shift
while [ "$1" != -- ]; do
  if [ -f "$R$1" ]; then mount --bind /dev/null "$R$1"; fi
  shift
done; shift
mkdir -p "$R$JOB"
mount --bind "$JOB" "$R$JOB"
mount -o remount,ro "$R"
CHROOT=$(command -v chroot || echo /usr/sbin/chroot)
exec "$CHROOT" "$R" /bin/sh -c 'cd "$1" && shift && exec "$@"' sandbox "$WD" "$@"
`;

/** The `unshare` command line that runs `command` in the sandbox, from `cwd` (inside the job). */
export function sandboxed(layout: SandboxLayout, network: boolean, cwd: string, command: string[]): { command: string; args: string[] } {
  const namespaces = ['-r', '-m', ...(network ? [] : ['-n']), '--pid', '--fork', '--kill-child'];
  return {
    command: 'unshare',
    args: [
      ...namespaces,
      '--',
      '/bin/sh',
      '-c',
      SCRIPT,
      'cratekeeper-sandbox',
      layout.root,
      layout.job,
      cwd,
      ...layout.visible,
      '--',
      ...layout.hiddenFolders,
      '--',
      ...layout.hiddenFiles,
      '--',
      ...command,
    ],
  };
}

/** Whether `inner` is `outer` or lies inside it. */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/** What the server must keep from a build: its data folder, its configuration and TLS files. */
export interface ServerSecrets {
  dataDir: string;
  /** The configuration file, when the server was started with one. */
  configFile?: string;
  /** Other files of the server's own (TLS certificate and key). */
  files: string[];
}

const SYSTEM_FOLDERS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/etc'];

/**
 * The layout for a job: the system folders and the toolchain's (RUSTUP_HOME, PATH's absolute
 * folders) visible; the data folder hidden, and the configuration's folder too unless the toolchain
 * needs it (`/etc`, or a home holding `.rustup`): then only the file itself is hidden. Each secret
 * path is hidden under its real path too (`realPath`), so a symlink cannot lead around a cover.
 */
export function sandboxLayout(
  job: string,
  root: string,
  env: NodeJS.ProcessEnv,
  secrets: ServerSecrets,
  realPath: (path: string) => string = (path) => path,
): SandboxLayout {
  const toolchain = [env.RUSTUP_HOME, ...(env.PATH ?? '').split(':')].filter(
    (p): p is string => p !== undefined && p !== '' && isAbsolute(p) && resolve(p) !== '/',
  );
  const visible = [...new Set([...SYSTEM_FOLDERS, ...toolchain.map((p) => resolve(p))])];
  const both = (path: string) => [...new Set([resolve(path), resolve(realPath(resolve(path)))])];
  const hiddenFolders = both(secrets.dataDir);
  const hiddenFiles = secrets.files.flatMap(both);
  for (const file of secrets.configFile !== undefined ? both(secrets.configFile) : []) {
    const folder = dirname(file);
    hiddenFiles.push(file);
    // Covering a folder that holds a visible one (a home holding .rustup) would hide the toolchain.
    const needed = folder === '/' || visible.some((p) => isWithin(p, folder));
    if (!needed && !hiddenFolders.includes(folder)) hiddenFolders.push(folder);
  }
  return { job, root, visible, hiddenFolders, hiddenFiles };
}

/** Whether the sandbox works here (user namespaces allowed, mount, chroot): `true` run in it. */
export async function sandboxWorks(layout: SandboxLayout, cwd: string, env: NodeJS.ProcessEnv): Promise<{ works: boolean; said: string }> {
  const log = new BoundedLog(4000);
  const { command, args } = sandboxed(layout, false, cwd, ['true']);
  const code = await runChild({ command, args, cwd, env, timeoutMs: 30_000, log, shown: 'sandbox check' });
  return { works: code === 0, said: log.toString().split('\n').slice(1).join('\n').trim() };
}

export interface BuildFolders {
  home: string;
  tmp: string;
  cargoHome: string;
  target: string;
}

/**
 * The children's whole environment: an allow-list of the toolchain's variables, so that no secret
 * of the server's (tokens, S3 keys, OIDC secrets, CRATEKEEPER_*) reaches a build script; HOME is
 * the job's own (the server's holds its user's files, cargo credentials among them).
 */
export function childEnvironment(env: NodeJS.ProcessEnv, folders: BuildFolders): NodeJS.ProcessEnv {
  const keep = ['PATH', 'RUSTUP_HOME', 'RUSTUP_TOOLCHAIN', 'LANG'];
  const out: NodeJS.ProcessEnv = {};
  for (const name of keep) if (env[name] !== undefined) out[name] = env[name];
  // rustup finds its toolchains through RUSTUP_HOME, which defaults to $HOME/.rustup.
  out.RUSTUP_HOME ??= join(env.HOME ?? '/root', '.rustup');
  if (env.CARGO_HOME && !env.PATH?.includes(env.CARGO_HOME)) out.PATH = `${env.PATH ?? ''}:${join(env.CARGO_HOME, 'bin')}`;
  return {
    ...out,
    HOME: folders.home,
    TMPDIR: folders.tmp,
    CARGO_HOME: folders.cargoHome,
    CARGO_TARGET_DIR: folders.target,
    CARGO_TERM_COLOR: 'never',
    CARGO_NET_RETRY: '1',
  };
}
