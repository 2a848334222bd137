// cargo's credential provider protocol, version 1 (cargo 1.74 and later). cargo starts the provider
// with `--cargo-plugin`, reads the hello line, then sends one JSON request a line and reads one JSON
// answer a line until it closes stdin. Arguments from cargo's configuration arrive in each request's
// `args`, not on the command line.
//
// - get: for a registry this terminal signed in to (`cratekeeper login`, or `cargo login` without a
//   token), the session's short-lived access token (session-provider.ts); otherwise the Authorization
//   value built from the host's auth pattern and the .netrc (or the host's token command, answered
//   with cache "expires" and the expiry it reported); unknown hosts answer not-found so that cargo
//   tries its next provider;
// - login: with a token, stores it in the .netrc (created with mode 0600), keeping the rest of the
//   file; without one, signs in with the device flow when the registry offers it;
// - logout: signs the session out, or removes the host's .netrc entry.

import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Operation } from './auth-config.js';
import { CredentialResolver } from './credential-resolver.js';
import { describeClientError } from './client-errors.js';
import { formatHostPort, urlHostPort } from './host-key.js';
import { removeNetrcMachine, setNetrcPassword } from './netrc-edit.js';
import { netrcPath, writeNetrcFile } from './netrc-file.js';
import { findNetrcMachine, parseNetrc } from './netrc-parse.js';
import { loadClientSettings, parseClientArgs, type ClientArgs } from './client-settings.js';
import { getFromSession, loginWithDeviceFlow, logoutSession } from './session-provider.js';

type Answer = { Ok: Record<string, unknown> } | { Err: { kind: string; message?: string; 'caused-by'?: string[] } };

interface CargoRequest {
  v: number;
  registry: { 'index-url': string; name?: string; headers?: string[] };
  kind: string;
  operation?: string;
  token?: string;
  args?: unknown;
}

export class ProtocolError extends Error {
  readonly code = 'CREDENTIAL_PROTOCOL';
}

const OPERATION_OF: Record<string, Operation> = { read: 'index', publish: 'api', yank: 'api', unyank: 'api', owners: 'api' };

/** Checks the shape of one request line; throws ProtocolError naming what is wrong. */
export function parseCargoRequest(line: string): CargoRequest {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new ProtocolError(`not valid JSON (${(error as Error).message}): expected one request object per line, as cargo sends`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('expected a JSON object');
  const request = value as Partial<CargoRequest>;
  if (request.v !== 1)
    throw new ProtocolError(`unsupported protocol version ${JSON.stringify(request.v)} (this provider speaks version 1)`);
  if (typeof request.kind !== 'string') throw new ProtocolError('missing "kind"');
  const registry = request.registry;
  if (typeof registry !== 'object' || registry === null || typeof registry['index-url'] !== 'string') {
    throw new ProtocolError('missing "registry"."index-url"');
  }
  if (request.args !== undefined && (!Array.isArray(request.args) || !request.args.every((a) => typeof a === 'string'))) {
    throw new ProtocolError('"args" must be an array of strings');
  }
  return request as CargoRequest;
}

function indexUrl(request: CargoRequest): URL {
  const raw = request.registry['index-url'].replace(/^sparse\+/, '');
  try {
    return new URL(raw);
  } catch {
    throw new ProtocolError(`"index-url" is not a URL: ${raw}`);
  }
}

async function answer(request: CargoRequest, baseArgs: ClientArgs, env: NodeJS.ProcessEnv, errors: Writable): Promise<Answer> {
  const args = parseClientArgs((request.args as string[] | undefined) ?? [], baseArgs);
  const url = indexUrl(request);
  switch (request.kind) {
    case 'get': {
      const operation = OPERATION_OF[request.operation ?? ''];
      if (operation === undefined) return { Err: { kind: 'operation-not-supported' } };
      const fromSession = await getFromSession(url.href, request.registry.name, env);
      if (fromSession !== undefined) return fromSession;
      const settings = loadClientSettings(args, env);
      const resolver = new CredentialResolver({ config: settings.config, netrc: settings.netrc, env });
      const auth = await resolver.resolve(url, operation);
      if (auth === undefined) return { Err: { kind: 'not-found' } };
      const authorization = auth.headers.find(([name]) => name.toLowerCase() === 'authorization');
      if (authorization === undefined || auth.headers.length > 1) {
        return {
          Err: {
            kind: 'other',
            message:
              `the auth pattern for ${url.host} sends ${auth.headers.map(([n]) => n).join(', ')}; cargo can only send one Authorization header, ` +
              'so use `cratekeeper proxy` for this host',
          },
        };
      }
      const ok: Record<string, unknown> = { kind: 'get', token: authorization[1], operation_independent: !auth.operationSpecific };
      if (auth.expiresAt !== undefined) Object.assign(ok, { cache: 'expires', expiration: auth.expiresAt });
      else ok.cache = 'session';
      return { Ok: ok };
    }
    case 'login': {
      if (typeof request.token !== 'string' || request.token === '') {
        const signedIn = await loginWithDeviceFlow(url.href, request.registry.name, env, errors);
        if (signedIn !== undefined) return signedIn;
        return {
          Err: { kind: 'other', message: 'cargo passed no token: run `cargo login --registry <name>` and paste the token when asked' },
        };
      }
      const path = netrcPath({ explicit: args.netrc, env });
      const settings = loadClientSettings(args, env);
      const doc = settings.netrc ?? parseNetrc('', path);
      const machine = machineFor(url, settings, doc);
      const existing = findNetrcMachine(doc, machine);
      writeNetrcFile(path, setNetrcPassword(doc, machine, existing?.login ?? args.login ?? 'cargo', request.token));
      return { Ok: { kind: 'login' } };
    }
    case 'logout': {
      const signedOut = await logoutSession(url.href, env, errors);
      if (signedOut !== undefined) return signedOut;
      const path = netrcPath({ explicit: args.netrc, env });
      const settings = loadClientSettings(args, env);
      const doc = settings.netrc;
      if (doc === undefined) return { Err: { kind: 'not-found' } };
      const { text, removed } = removeNetrcMachine(doc, machineFor(url, settings, doc));
      if (!removed) return { Err: { kind: 'not-found' } };
      writeNetrcFile(path, text);
      return { Ok: { kind: 'logout' } };
    }
    default:
      return { Err: { kind: 'operation-not-supported' } };
  }
}

/** The .netrc machine name for a registry: the configured one, an existing `host:port` entry, else the host. */
function machineFor(url: URL, settings: ReturnType<typeof loadClientSettings>, doc: ReturnType<typeof parseNetrc>): string {
  const { host, port } = urlHostPort(url);
  const configured = new CredentialResolver({ config: settings.config, netrc: undefined }).hostConfig(host, port);
  if (configured?.netrcMachine !== undefined) return configured.netrcMachine;
  const withPort = formatHostPort(host, port);
  return findNetrcMachine(doc, withPort) ? withPort : host;
}

/**
 * Speaks the protocol on the given streams until cargo closes stdin. Returns the exit status: 0, or 1
 * when a request line could not be understood (it is answered with an error all the same).
 */
export async function serveCredentialProtocol(
  io: { input: Readable; output: Writable; errors: Writable },
  baseArgs: ClientArgs,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const write = (value: unknown) => io.output.write(`${JSON.stringify(value)}\n`);
  write({ v: [1] });
  let status = 0;
  let lineNumber = 0;
  for await (const line of createInterface({ input: io.input, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim() === '') continue;
    let reply: Answer;
    try {
      reply = await answer(parseCargoRequest(line), baseArgs, env, io.errors);
    } catch (error) {
      const message = describeClientError(error);
      if (error instanceof ProtocolError) {
        status = 1;
        io.errors.write(`cratekeeper credential: request on line ${lineNumber}: ${message}\n`);
        reply = { Err: { kind: 'other', message: `cratekeeper credential: bad request on line ${lineNumber}: ${message}` } };
      } else {
        reply = { Err: { kind: 'other', message } };
      }
    }
    write(reply);
  }
  return status;
}
