// Helpers for the server-side tests of the client toolkit (the end-to-end tests run it through the
// server's `cratekeeper`, which delegates to @cratekeeper/client): a wrapper script that runs the compiled CLI the way an
// installed `cratekeeper` would (cargo needs one executable path for a credential provider),
// recording HTTP(S) servers, a git smart-HTTP server that requires a header, and the
// proxy as a child process.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { ProgramResult } from '@cratekeeper/test-support/run-program';
import { CLI_PATH } from '../support/registry-server.js';

/** Writes `<dir>/cratekeeper`, an executable that runs the compiled CLI with this node. */
export function writeCliWrapper(dir: string): string {
  const path = join(dir, 'cratekeeper');
  writeFileSync(path, `#!/bin/sh\nexec "${process.execPath}" "${CLI_PATH}" "$@"\n`);
  chmodSync(path, 0o755);
  return path;
}

/** One line of cargo's credential protocol: a `get` to read from reg.example.com, passing the provider `args`. */
export function credentialGetRequest(args: string[]): string {
  const request = {
    v: 1,
    registry: { 'index-url': 'sparse+https://reg.example.com/index/', name: 'r' },
    kind: 'get',
    operation: 'read',
    args,
  };
  return JSON.stringify(request) + '\n';
}

/** A credential provider's whole answer to one `get`: its hello, then `token` (cached for the session), and a clean exit. */
export function assertCredentialAnswer(result: ProgramResult, token: string): void {
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(
    result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as unknown),
    [{ v: [1] }, { Ok: { kind: 'get', token, operation_independent: true, cache: 'session' } }],
  );
}

export interface Recorder {
  url: string;
  port: number;
  /** Every request seen: method, path and its Authorization header. */
  seen: Array<{ method: string; path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

async function listenOn(server: HttpServer | HttpsServer, scheme: string, seen: Recorder['seen']): Promise<Recorder> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A server that records requests and answers 200 (401 for paths starting with /reject). */
export function startEchoServer(tls?: { cert: string; key: string }): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    seen.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization });
    const status = req.url!.startsWith('/reject') ? 401 : 200;
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`echo ${status}\n`);
  };
  const server = tls ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, handler) : createHttpServer(handler);
  return listenOn(server, tls ? 'https' : 'http', seen);
}

/**
 * An HTTPS git server: `git http-backend` (CGI) behind a Node server that answers 401 unless the
 * request carries `Authorization: <required>`. Serves the bare repositories under `root`.
 */
export function startGitServer(root: string, tls: { cert: string; key: string }, required: string): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server = createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, (req, res) => {
    seen.push({ method: req.method!, path: req.url!, authorization: req.headers.authorization });
    if (req.headers.authorization !== required) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="git"' }).end('authentication required\n');
      return;
    }
    const url = new URL(req.url!, 'https://git.invalid');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
        REMOTE_ADDR: '127.0.0.1',
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const colon = line.indexOf(':');
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0]);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
  });
  return listenOn(server, 'https', seen);
}

export interface RunningProxyProcess {
  address: string;
  startupMs: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Runs `cratekeeper proxy --listen 127.0.0.1:0 ...` and reads its address from the one stdout line. */
export function startProxyProcess(args: string[]): Promise<RunningProxyProcess> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI_PATH, 'proxy', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the proxy did not start:\n${stderr}`));
    }, 15_000);
    child.once('exit', (code) => reject(new Error(`the proxy exited with ${code}:\n${stderr}`)));
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const address = /^cratekeeper proxy listening on (\S+)$/m.exec(stdout)?.[1];
      if (address === undefined) return;
      clearTimeout(timer);
      resolve({
        address,
        startupMs: Date.now() - started,
        stderr: () => stderr,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}
