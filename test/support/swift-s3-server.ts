// A real S3 endpoint for tests: Debian's OpenStack Swift with the s3api middleware and tempauth
// (which checks AWS SigV4 signatures), plus memcached, which tempauth needs. Everything runs from a
// temporary folder on 127.0.0.1 with OS-chosen ports: rings with one replica on one device,
// `mount_check = false`, one worker per server. Missing Debian packages are installed with apt-get.
//
// Swift always reads /etc/swift/swift.conf (hash prefix/suffix, storage policies), which the Debian
// package ships; all other configs and the rings live in the temporary folder. Servers run as the
// current user (root in CI: `user = root`), each in its own process group so that stop() can kill
// a server and its workers together; exit and SIGINT/SIGTERM hooks kill them if a run dies early.
// Startup failures throw with the servers' logs attached: a test that needs S3 fails, never skips.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { APT_LOCK_WAIT } from './apt.js';
import { accepts, freePorts } from './local-daemons.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

export interface SwiftS3 {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  bucket: string;
  /** The servers' logs, for failure messages. */
  logs(): string;
  /**
   * SIGSTOP on every process of every server (each server's process group: the server and its
   * workers, and memcached): connections are still accepted by the kernel, but nothing answers,
   * as in a network partition. `thaw()` sends SIGCONT.
   */
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
}

const PACKAGES = ['swift', 'swift-proxy', 'swift-object', 'swift-container', 'swift-account', 'python3-swift', 'memcached'];
const BINARIES = [
  '/usr/bin/swift-proxy-server',
  '/usr/bin/swift-account-server',
  '/usr/bin/swift-container-server',
  '/usr/bin/swift-object-server',
  '/usr/bin/memcached',
];
const REGION = 'us-east-1';
const STARTUP_MS = 60_000;

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) killGroup(child, 'SIGKILL');
    process.kill(process.pid, signal);
  });
}

export async function startSwiftS3(): Promise<SwiftS3> {
  ensureInstalled();
  // A free port found by binding port 0 can be taken by someone else before Swift binds it:
  // then start once more on new ports.
  try {
    return await startOnce();
  } catch (error) {
    if (!/Address already in use|Could not bind/.test(String((error as Error).message))) throw error;
    return await startOnce();
  }
}

async function startOnce(): Promise<SwiftS3> {
  if (!existsSync('/etc/swift/swift.conf')) throw new Error('Swift needs /etc/swift/swift.conf (shipped by the swift package)');
  const root = makeTempDir('cratekeeper-swift-');
  const etc = join(root, 'etc');
  const logDir = join(root, 'logs');
  for (const dir of [etc, logDir, join(root, 'devices', 'd1')]) mkdirSync(dir, { recursive: true });

  const [proxy, account, container, object, memcache] = await freePorts(5);
  const secretAccessKey = randomBytes(16).toString('hex');
  const user = userInfo().username;
  writeConfigs(etc, join(root, 'devices'), user, secretAccessKey, {
    proxy: proxy!,
    account: account!,
    container: container!,
    object: object!,
    memcache: memcache!,
  });

  const children: { name: string; child: ChildProcess; log: string }[] = [];
  const logs = () => children.map(({ name, log }) => `--- ${name} ---\n${tail(log)}`).join('\n');
  const signalAll = (signal: NodeJS.Signals) => {
    for (const { child } of children) killGroup(child, signal);
  };
  const thaw = () => signalAll('SIGCONT');
  const stop = async () => {
    thaw(); // a stopped process would not act on SIGTERM
    await Promise.all(children.map(({ child }) => stopChild(child)));
  };
  const launch = (name: string, command: string, args: string[]) => {
    const log = join(logDir, `${name}.log`);
    const fd = openSync(log, 'a');
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    running.add(child);
    child.on('exit', () => running.delete(child));
    children.push({ name, child, log });
  };

  try {
    launch('memcached', '/usr/bin/memcached', [
      '-l',
      '127.0.0.1',
      '-p',
      String(memcache),
      '-U',
      '0',
      '-m',
      '16',
      '-t',
      '1',
      ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
    ]);
    // Only the proxy reads the rings when it starts: the storage servers start while they are built.
    for (const server of ['account', 'container', 'object']) {
      launch(server, `/usr/bin/swift-${server}-server`, [join(etc, `${server}-server.conf`), '-v']);
    }
    await buildRings(etc, { account: account!, container: container!, object: object! });
    launch('proxy', '/usr/bin/swift-proxy-server', [join(etc, 'proxy-server.conf'), '-v']);

    const deadline = Date.now() + STARTUP_MS;
    const exited = () => children.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    for (const port of [memcache!, account!, container!, object!]) await waitFor(() => accepts(port), deadline, exited);
    await waitFor(() => healthy(proxy!), deadline, exited);

    const endpoint = `http://127.0.0.1:${proxy}`;
    const accessKeyId = 'test:tester';
    const bucket = 'cratekeeper-test';
    await createBucket({ endpoint, accessKeyId, secretAccessKey, bucket }, deadline);
    return { endpoint, region: REGION, accessKeyId, secretAccessKey, bucket, logs, freeze: () => signalAll('SIGSTOP'), thaw, stop };
  } catch (error) {
    await stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`OpenStack Swift (s3api) did not start: ${reason}\n${logs()}`, { cause: error });
  }
}

function ensureInstalled(): void {
  if (BINARIES.every((binary) => existsSync(binary))) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', [...APT_LOCK_WAIT, 'install', '-y', '--no-install-recommends', ...PACKAGES], { env, encoding: 'utf8' });
  let run = install();
  if (run.status !== 0) {
    spawnSync('apt-get', [...APT_LOCK_WAIT, 'update'], { env, encoding: 'utf8' });
    run = install();
  }
  const missing = BINARIES.filter((binary) => !existsSync(binary));
  if (run.status !== 0 || missing.length > 0) {
    throw new Error(
      `cannot install Swift (apt-get install ${PACKAGES.join(' ')}): missing ${missing.join(', ')}\n${run.stderr ?? run.error}`,
    );
  }
}

// The rings: one device, one replica, 2^4 partitions. Built with RingBuilder, the library behind
// swift-ring-builder, in one Python process: nine swift-ring-builder runs (create, add, rebalance
// for three rings) cost ~9 s of interpreter start-up on these machines, this ~1 s.
const RING_SCRIPT = `
import sys
from swift.common.ring import RingBuilder
folder = sys.argv[1]
for name, port in zip(('account', 'container', 'object'), sys.argv[2:]):
    builder = RingBuilder(4, 1, 0)
    builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(port),
                     'device': 'd1', 'weight': 100})
    builder.rebalance()
    builder.get_ring().save('%s/%s.ring.gz' % (folder, name))
`;

async function buildRings(etc: string, ports: { account: number; container: number; object: number }): Promise<void> {
  const args = ['-c', RING_SCRIPT, etc, String(ports.account), String(ports.container), String(ports.object)];
  const child = spawn('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`building the Swift rings failed (exit ${code}):\n${output}`);
}

function writeConfigs(
  etc: string,
  devices: string,
  user: string,
  secret: string,
  ports: { proxy: number; account: number; container: number; object: number; memcache: number },
): void {
  const defaults = (name: string, port: number) =>
    [
      '[DEFAULT]',
      'bind_ip = 127.0.0.1',
      `bind_port = ${port}`,
      'workers = 1',
      `user = ${user}`,
      `swift_dir = ${etc}`,
      `devices = ${devices}`,
      'mount_check = false',
      'disable_fallocate = true',
      'bind_timeout = 5',
      `log_name = ${name}`,
      'log_level = INFO',
    ].join('\n');
  for (const server of ['account', 'container', 'object'] as const) {
    writeFileSync(
      join(etc, `${server}-server.conf`),
      `${defaults(server, ports[server])}\n\n[pipeline:main]\npipeline = ${server}-server\n\n` +
        `[app:${server}-server]\nuse = egg:swift#${server}\n\n[${server}-replicator]\n[${server}-auditor]\n`,
    );
  }
  // s3api must come right before the auth middleware (tempauth), per the sample proxy-server.conf;
  // slo after it enables multipart uploads.
  const filters: [string, string][] = [
    ['catch_errors', 'catch_errors'],
    ['gatekeeper', 'gatekeeper'],
    ['healthcheck', 'healthcheck'],
    ['proxy-logging', 'proxy_logging'],
    ['listing_formats', 'listing_formats'],
    ['copy', 'copy'],
    ['slo', 'slo'],
    ['dlo', 'dlo'],
    ['versioned_writes', 'versioned_writes'],
  ];
  writeFileSync(
    join(etc, 'proxy-server.conf'),
    [
      defaults('proxy', ports.proxy),
      '',
      '[pipeline:main]',
      'pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server',
      '',
      '[app:proxy-server]',
      'use = egg:swift#proxy',
      'account_autocreate = true',
      '',
      '[filter:s3api]',
      'use = egg:swift#s3api',
      `location = ${REGION}`,
      '',
      '[filter:tempauth]',
      'use = egg:swift#tempauth',
      `user_test_tester = ${secret} .admin`,
      '',
      '[filter:cache]',
      'use = egg:swift#memcache',
      `memcache_servers = 127.0.0.1:${ports.memcache}`,
      '',
      ...filters.map(([name, egg]) => `[filter:${name}]\nuse = egg:swift#${egg}\n`),
    ].join('\n'),
  );
}

async function createBucket(
  s3: { endpoint: string; accessKeyId: string; secretAccessKey: string; bucket: string },
  deadline: number,
): Promise<void> {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    maxAttempts: 1,
  });
  try {
    let lastError: unknown;
    // The proxy can answer before the storage servers accept requests: retry 503s until the deadline.
    while (Date.now() < deadline) {
      try {
        await client.send(new CreateBucketCommand({ Bucket: s3.bucket }));
        return;
      } catch (error) {
        lastError = error;
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status !== undefined && status < 500) throw error;
        await sleep(200);
      }
    }
    throw new Error(`CreateBucket kept failing: ${String(lastError)}`);
  } finally {
    client.destroy();
  }
}

async function healthy(port: number): Promise<boolean> {
  try {
    const reply = await fetch(`http://127.0.0.1:${port}/healthcheck`, { signal: AbortSignal.timeout(2000) });
    return reply.status === 200;
  } catch {
    return false;
  }
}

async function waitFor(
  ready: () => Promise<boolean>,
  deadline: number,
  exited: () => { name: string; child: ChildProcess } | undefined,
): Promise<void> {
  while (Date.now() < deadline) {
    const dead = exited();
    if (dead) throw new Error(`${dead.name} exited early (code ${dead.child.exitCode}, signal ${dead.child.signalCode})`);
    if (await ready()) return;
    await sleep(100);
  }
  throw new Error(`not ready after ${STARTUP_MS} ms`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  killGroup(child, 'SIGTERM');
  const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // The server's workers are in its group: make sure none outlives it.
  killGroup(child, 'SIGKILL');
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-40).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
