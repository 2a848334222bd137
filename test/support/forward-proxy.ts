// Real outgoing (forward) proxies for tests, from Debian's packages, installed when missing:
// tinyproxy for HTTP CONNECT and dante (`danted`) for SOCKS5 without authentication. Each runs in
// the foreground as the current user, in a temporary folder of its own (config, log, pid), on
// 127.0.0.1 with a free port, and is stopped by the test. Their logs tell which tunnels they opened
// (`host:port` per tunnel), so a test can count the traffic that went through them. A proxy that
// does not start fails the test; nothing is skipped.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackages } from './apt.js';
import { accepts, freePort, killOnExit } from './local-daemons.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

export interface RunningForwardProxy {
  kind: 'http' | 'socks5';
  /** `http://127.0.0.1:P` or `socks5://127.0.0.1:P`: what --upstream-proxy and `proxy =` take. */
  url: string;
  port: number;
  /** The target of every tunnel opened so far (`host:port`), in order. */
  tunnels(): string[];
  /** The proxy's whole log, for assertion messages. */
  log(): string;
  stop(): Promise<void>;
}

const TINYPROXY = '/usr/bin/tinyproxy';
const DANTED = '/usr/sbin/danted';

const readLog = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8') : '');

async function launch(options: {
  kind: 'http' | 'socks5';
  binary: string;
  /** Writes the config for this port and returns the command line. */
  configure: (port: number) => string[];
  logFile: string;
  tunnels: (log: string) => string[];
}): Promise<RunningForwardProxy> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const child = spawn(options.binary, options.configure(port), { stdio: ['ignore', 'pipe', 'pipe'] });
    killOnExit(child);
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null && child.signalCode === null && !up; i++) {
      up = await accepts(port);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (up) {
      child.unref();
      for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
      return {
        kind: options.kind,
        url: `${options.kind}://127.0.0.1:${port}`,
        port,
        tunnels: () => options.tunnels(readLog(options.logFile)),
        log: () => `${output}${readLog(options.logFile)}`,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.ref();
            child.kill('SIGTERM');
            const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(timer);
          }
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    if (attempt >= 3) throw new Error(`${options.binary} did not start on 127.0.0.1:${port}:\n${output}\n${readLog(options.logFile)}`);
  }
}

/** tinyproxy: an HTTP proxy; CONNECT to any port (no ConnectPort line), clients from loopback. */
export async function startHttpConnectProxy(): Promise<RunningForwardProxy> {
  if (!existsSync(TINYPROXY)) ensureDebianPackages(['tinyproxy']);
  const dir = makeTempDir('cratekeeper-tinyproxy-');
  const logFile = join(dir, 'tinyproxy.log');
  return launch({
    kind: 'http',
    binary: TINYPROXY,
    logFile,
    configure: (port) => {
      const config = join(dir, 'tinyproxy.conf');
      writeFileSync(
        config,
        [
          `Port ${port}`,
          'Listen 127.0.0.1',
          'Allow 127.0.0.1',
          'Timeout 60',
          'MaxClients 100',
          `LogFile "${logFile}"`,
          'LogLevel Connect',
          `PidFile "${join(dir, 'tinyproxy.pid')}"`,
          '',
        ].join('\n'),
      );
      return ['-d', '-c', config];
    },
    // CONNECT   Nov 23 07:26:37.112 [4994]: Request (file descriptor 5): CONNECT deb.debian.org:443 HTTP/1.1
    tunnels: (log) => [...log.matchAll(/: Request \(file descriptor \d+\): CONNECT (\S+) HTTP\/1\.[01]$/gm)].map((m) => m[1]!),
  });
}

/** danted: a SOCKS5 proxy, method "none", CONNECT only, clients and targets on loopback. */
export async function startSocks5Proxy(): Promise<RunningForwardProxy> {
  if (!existsSync(DANTED)) ensureDebianPackages(['dante-server']);
  const dir = makeTempDir('cratekeeper-danted-');
  const logFile = join(dir, 'danted.log');
  return launch({
    kind: 'socks5',
    binary: DANTED,
    logFile,
    configure: (port) => {
      const config = join(dir, 'danted.conf');
      // Runs as whoever starts it; dante only warns when that is root.
      const user = process.getuid?.() === 0 ? 'root' : (process.env.USER ?? 'nobody');
      writeFileSync(
        config,
        [
          `logoutput: ${logFile}`,
          `internal: 127.0.0.1 port = ${port}`,
          'external: 127.0.0.1',
          'clientmethod: none',
          'socksmethod: none',
          `user.privileged: ${user}`,
          `user.unprivileged: ${user}`,
          'client pass {',
          '  from: 127.0.0.0/8 to: 0.0.0.0/0',
          '  log: error',
          '}',
          'socks pass {',
          '  from: 127.0.0.0/8 to: 0.0.0.0/0',
          '  command: connect',
          '  log: connect error',
          '}',
          '',
        ].join('\n'),
      );
      return ['-f', config, '-p', join(dir, 'danted.pid'), '-N', '1'];
    },
    // ... info: pass(1): tcp/connect [: 127.0.0.1.36350 127.0.0.1.44535 -> 127.0.0.1.43005 127.0.0.1.8080
    tunnels: (log) => [...log.matchAll(/pass\(\d+\): tcp\/connect \[: \S+ \S+ -> \S+ (\S+)\.(\d+)$/gm)].map((m) => `${m[1]}:${m[2]}`),
  });
}
