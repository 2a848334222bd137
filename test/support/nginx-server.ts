// Debian's nginx as a real upstream for mirror tests: serves a folder statically on 127.0.0.1 with
// a port of its own, optionally behind HTTP Basic auth (an htpasswd made with `openssl passwd
// -apr1`), with its own temporary prefix, config, pid and logs, in the foreground (`daemon off`).
// Its access log lets a test count what reached the upstream. Installed when missing.

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackages } from './apt.js';
import { accepts, freePort, killOnExit } from './local-daemons.js';
import { makeTempDir } from '@cratekeeper/test-support/temp-dir';

export interface RunningNginx {
  url: string;
  port: number;
  /** Access log lines so far: `METHOD PATH STATUS`. */
  accessLog(): string[];
  stop(): Promise<void>;
}

const NGINX = '/usr/sbin/nginx';

export async function startNginx(options: {
  root: string;
  /** Called with the URL before nginx starts (to write files that name it, like config.json). */
  prepare?: (url: string) => void;
  basicAuth?: { user: string; password: string };
  /** More directives for the server block (locations, say). */
  serverConfig?: string;
}): Promise<RunningNginx> {
  if (!existsSync(NGINX)) ensureDebianPackages(['nginx']);
  const prefix = makeTempDir('cratekeeper-nginx-');
  mkdirSync(join(prefix, 'logs'));
  let auth = '';
  if (options.basicAuth) {
    const hash = execFileSync('openssl', ['passwd', '-apr1', options.basicAuth.password], { encoding: 'utf8' }).trim();
    writeFileSync(join(prefix, 'htpasswd'), `${options.basicAuth.user}:${hash}\n`, { mode: 0o644 });
    auth = `auth_basic "upstream"; auth_basic_user_file ${join(prefix, 'htpasswd')};`;
  }
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    options.prepare?.(url);
    const temp = (name: string) => `${name}_temp_path ${join(prefix, `${name}-temp`)};`;
    writeFileSync(
      join(prefix, 'nginx.conf'),
      `daemon off;
master_process off;
worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 256; }
http {
  log_format short '$request_method $uri $status';
  access_log ${join(prefix, 'logs', 'access.log')} short;
  ${['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp).join('\n  ')}
  types { application/json json; application/gzip crate; }
  default_type text/plain;
  server {
    listen 127.0.0.1:${port};
    root ${options.root};
    ${auth}
    ${options.serverConfig ?? ''}
  }
}
`,
    );
    const child = spawn(NGINX, ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-e', join(prefix, 'logs', 'error.log')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    killOnExit(child);
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let up = false;
    for (let i = 0; i < 100 && child.exitCode === null && !up; i++) {
      up = await accepts(port);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (up) {
      child.unref();
      (child.stderr as unknown as { unref?: () => void }).unref?.();
      return {
        url,
        port,
        accessLog: () => {
          const path = join(prefix, 'logs', 'access.log');
          return existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : [];
        },
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.ref(); // hold the event loop open until it has exited
            child.kill('SIGTERM');
            await exited;
          }
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    if (attempt >= 3) throw new Error(`nginx did not start: ${stderr}`);
  }
}
