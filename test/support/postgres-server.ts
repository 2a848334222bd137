// A real PostgreSQL 15 (Debian's packages) for tests: a fresh cluster in a temporary folder,
// listening on 127.0.0.1 on a port the OS chose, its unix socket in that folder too. It is
// installed with apt-get when missing, so that `npm test` works on a fresh machine and in CI.
// initdb and postgres refuse to run as root, so as root they run as the `postgres` system user.
// Anything that goes wrong throws with the reason (and the server's log): tests fail, never skip.

import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './local-daemons.js';
import { APT_LOCK_WAIT } from './apt.js';

const PG_BIN = process.env.CRATEKEEPER_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const START_ATTEMPTS = 3;

export interface PostgresServer {
  port: number;
  /** Creates an empty database and returns its connection URL. */
  createDatabase(): Promise<string>;
  /** Runs one statement on the database at `url` as the superuser (for test-only setup). */
  execute(url: string, statement: string): Promise<void>;
  /**
   * SIGSTOP on every process of the server (the postmaster first, so that it forks no more): it
   * keeps its sockets and the kernel keeps accepting connections, but nothing answers, as in a
   * network partition or a stuck failover. `thaw()` sends SIGCONT.
   */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

interface RunResult {
  code: number | null;
  output: string;
}

const isRoot = () => process.getuid?.() === 0;

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', (error) => resolve({ code: null, output: output + String(error) }));
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The command line that runs a PostgreSQL program as the `postgres` user when we are root. */
function asPostgres(program: string, args: string[]): [string, string[]] {
  const path = join(PG_BIN, program);
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', path, ...args]] : [path, args];
}

async function ensureInstalled(): Promise<void> {
  if (existsSync(join(PG_BIN, 'postgres'))) return;
  if (!isRoot()) {
    throw new Error(`PostgreSQL 15 is not installed (${PG_BIN}/postgres is missing); run: sudo apt-get install -y postgresql-15`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for another apt-get (a parallel test file) instead of failing on dpkg's lock.
  const install = () => run('apt-get', [...APT_LOCK_WAIT, 'install', '-y', 'postgresql-15'], env);
  let result = await install();
  if (result.code !== 0) {
    const update = await run('apt-get', [...APT_LOCK_WAIT, 'update'], env);
    if (update.code !== 0) throw new Error(`apt-get update failed (${update.code}):\n${update.output}`);
    result = await install();
  }
  if (result.code !== 0 || !existsSync(join(PG_BIN, 'postgres'))) {
    throw new Error(`could not install postgresql-15 with apt-get (exit ${result.code}):\n${result.output}`);
  }
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '(no log)';
  }
}

/** The postmaster's pid, from the first line of postmaster.pid. */
function postmasterPid(dataDir: string): number {
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no postmaster pid in ${dataDir}/postmaster.pid`);
  return pid;
}

/** The direct children of a process, from /proc (the postmaster's backends and background workers). */
function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields after the last ')' are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process exited meanwhile
    }
  }
  return children;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // exited meanwhile
  }
}

/** How long `stop()` waits for the connections of closed pools to go. */
const CLIENTS_LEAVING_MS = 5_000;

/**
 * Waits, up to CLIENTS_LEAVING_MS, until no other client is connected. pg's `pool.end()` resolves
 * before its connections have closed: a server stopped right after a test closed its last pool
 * told those connections it was shutting down, and each such error, on a client its pool had
 * already let go of, failed the test file as an uncaught exception. A connection still open after
 * the wait is a leak, and meets that error as before.
 */
async function untilClientsLeft(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const deadline = Date.now() + CLIENTS_LEAVING_MS;
    for (;;) {
      const { rows } = await client.query<{ n: string }>(
        "select count(*) as n from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()",
      );
      if (Number(rows[0]!.n) === 0 || Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await client.end();
  }
}

/** Starts a fresh cluster; call `stop()` when done (it is also killed if the process exits). */
export async function startPostgresServer(): Promise<PostgresServer> {
  await ensureInstalled();
  const root = mkdtempSync(join(tmpdir(), 'cratekeeper-pg-'));
  const dataDir = join(root, 'data');
  const socketDir = join(root, 'sock');
  const logFile = join(root, 'postgres.log');
  mkdirSync(socketDir);
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(root, uid, gid);
    chownSync(socketDir, uid, gid);
  }

  const thaw = () => {
    let postmaster: number;
    try {
      postmaster = postmasterPid(dataDir);
    } catch {
      return; // not running
    }
    for (const child of childrenOf(postmaster)) signal(child, 'SIGCONT');
    signal(postmaster, 'SIGCONT');
  };
  const stopNow = () => {
    thaw(); // a frozen server would not act on pg_ctl's signal
    try {
      const [cmd, args] = asPostgres('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch {
      // not running
    }
    rmSync(root, { recursive: true, force: true });
  };
  // A test process that dies before `stop()` must not leave a server behind.
  process.on('exit', stopNow);

  try {
    const initdb = await run(
      ...asPostgres('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']),
    );
    if (initdb.code !== 0) throw new Error(`initdb failed (exit ${initdb.code}):\n${initdb.output}`);

    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = [
        `-p ${port}`,
        '-h 127.0.0.1',
        `-k ${socketDir}`,
        // Durability is not under test; speed is welcome.
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
      ].join(' ');
      const start = await run(...asPostgres('pg_ctl', ['-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options, 'start']));
      if (start.code === 0) break;
      const log = readLog(logFile);
      // Another process may have taken the port between our probe and the server's bind.
      if (attempt < START_ATTEMPTS && /already in use/i.test(log)) continue;
      throw new Error(`PostgreSQL did not start (pg_ctl exit ${start.code}):\n${start.output}\n--- server log ---\n${log}`);
    }

    const urlOf = (database: string) => `postgresql://postgres@127.0.0.1:${port}/${database}`;
    const execute = async (url: string, statement: string) => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    };
    let databases = 0;
    return {
      port,
      async createDatabase() {
        const name = `ck_test_${++databases}`;
        await execute(urlOf('postgres'), `create database ${name}`);
        return urlOf(name);
      },
      execute,
      freeze() {
        const postmaster = postmasterPid(dataDir);
        signal(postmaster, 'SIGSTOP');
        for (const child of childrenOf(postmaster)) signal(child, 'SIGSTOP');
      },
      thaw,
      async stop() {
        process.off('exit', stopNow);
        thaw();
        await untilClientsLeft(urlOf('postgres'));
        const [cmd, args] = asPostgres('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
        const result = await run(cmd, args);
        rmSync(root, { recursive: true, force: true });
        if (result.code !== 0) throw new Error(`pg_ctl stop failed (exit ${result.code}):\n${result.output}`);
      },
    };
  } catch (error) {
    process.off('exit', stopNow);
    stopNow();
    throw error;
  }
}
