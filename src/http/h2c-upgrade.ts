// HTTP/2 on plain http, as cargo asks for it. cargo's index and download requests on a new
// connection carry `Connection: Upgrade, HTTP2-Settings` and `Upgrade: h2c` (RFC 7540 §3.2), and
// cargo lets curl wait for that connection (`pipewait`) rather than open others. Unanswered, the
// hundred-odd index files of a resolve go one after another over one HTTP/1.1 connection, each
// paying a round trip; upgraded, they are streams of one connection and overlap.
//
// node's HTTP/2 has no server-side upgrade, so the upgraded request is replayed: after the 101 and
// the client's connection preface (the magic and its SETTINGS frame), the request is put, as a
// HEADERS frame for stream 1, into the bytes the HTTP/2 session reads first; the session answers it
// on stream 1, as the RFC requires. Any other request that asks for an upgrade (not to h2c, with a
// body, not GET or HEAD, or once the server is closing) is answered by the HTTP/1.1 server as if it
// had not asked, and its connection closes after that answer. Either waits for the answers still
// being sent on the connection to requests pipelined before it.

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttp2Server, type ServerHttp2Session, type Settings } from 'node:http2';
import { finished, type Duplex } from 'node:stream';
import { DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_LENGTH, http2Fields, upgradedRequestFrames } from './http2-request-frames.js';
import { limitRequestArrival } from './request-arrival.js';

const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const SETTINGS = 0x4;
/** How long a client may take to send its connection preface after the 101. */
export const PREFACE_TIMEOUT_MS = 10_000;
/** node's HTTP/2 limit of fields per request (`maxHeaderListPairs`), pseudo-fields included. */
const MAX_HTTP2_FIELDS = 128;
/**
 * After a session's graceful close node ends the socket and waits for the client's end: a client
 * that never sends it would hold the socket for good. It is destroyed this long after ours.
 */
const HALF_CLOSED_GRACE_MS = 1_000;

const SWITCHING_PROTOCOLS = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';

function listsToken(header: string | undefined, token: string): boolean {
  return header !== undefined && header.split(',').some((item) => item.trim().toLowerCase() === token);
}

/**
 * Whether the request may switch: a GET or HEAD without body, asking for h2c with its settings,
 * with no more fields than an HTTP/2 request may have here.
 */
export function wantsH2c(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.httpVersion === '1.1' &&
    req.url!.startsWith('/') &&
    req.headers['content-length'] === undefined &&
    req.headers['transfer-encoding'] === undefined &&
    typeof req.headers['http2-settings'] === 'string' &&
    listsToken(req.headers.upgrade, 'h2c') &&
    http2Fields(req).length <= MAX_HTTP2_FIELDS
  );
}

/**
 * How far `bytes` is a valid start of a client connection: the length of the preface and its
 * SETTINGS frame, after which the upgraded request's frames go; 'invalid'; or how many bytes are
 * needed before it can tell.
 */
export function prefaceLength(bytes: Buffer): number | 'invalid' | { needs: number } {
  const frameStart = CONNECTION_PREFACE.length;
  if (bytes.length < frameStart + FRAME_HEADER_LENGTH) return { needs: frameStart + FRAME_HEADER_LENGTH };
  if (!bytes.subarray(0, frameStart).equals(CONNECTION_PREFACE)) return 'invalid';
  const length = bytes.readUIntBE(frameStart, 3);
  const isSettings = bytes[frameStart + 3] === SETTINGS && bytes[frameStart + 4] === 0 && bytes.readUInt32BE(frameStart + 5) === 0;
  if (!isSettings || length % 6 !== 0 || length > DEFAULT_MAX_FRAME_SIZE) return 'invalid';
  const end = frameStart + FRAME_HEADER_LENGTH + length;
  return bytes.length < end ? { needs: end } : end;
}

/** The request's head again, without its upgrade, asking to close the connection after its answer. */
function withoutUpgrade(req: IncomingMessage): Buffer {
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name !== 'connection' && name !== 'upgrade' && name !== 'http2-settings') lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  lines.push('Connection: close', '', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/**
 * Calls `then` once no HTTP/1.1 answer is being sent on the socket any more: an upgrade request
 * pipelined behind others must not write before their answers (node's current one is the socket's
 * `_httpMessage`; the next queued one takes its place when it finishes).
 */
function afterPendingAnswers(socket: Duplex, then: () => void): void {
  const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!pending) return then();
  finished(pending, () => setImmediate(() => (socket.destroyed ? undefined : afterPendingAnswers(socket, then))));
}

export interface H2cOptions {
  /** Called for each connection switched to HTTP/2. */
  onUpgrade?: () => void;
  prefaceTimeoutMs?: number;
  /** An HTTP/2 connection without traffic for this long is closed. */
  idleTimeoutMs: number;
  /** A request on an HTTP/2 connection must arrive whole within this long (none when 0 or absent). */
  arrivalLimitMs?: number;
  settings?: Settings;
}

/** The connections that asked to switch, for the server's close. */
export interface UpgradedConnections {
  /** Graceful: HTTP/2 connections finish their open requests; those still switching are closed. */
  close(): void;
  /** Closes them all now. */
  destroy(): void;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Answers `server`'s upgrade requests: h2c ones on HTTP/2 sessions whose requests go to `handler`
 * (node's compatibility request and response), the rest as plain HTTP/1.1.
 */
export function acceptH2cUpgrades(server: Server, handler: Handler, options: H2cOptions): UpgradedConnections {
  const prefaceTimeoutMs = options.prefaceTimeoutMs ?? PREFACE_TIMEOUT_MS;
  const http2 = createHttp2Server({ settings: options.settings }, handler as never);
  if (options.arrivalLimitMs) limitRequestArrival(http2, options.arrivalLimitMs);
  /** Sent the 101, waiting for the preface. */
  const waiting = new Set<Duplex>();
  const sessions = new Map<ServerHttp2Session, Duplex>();

  const startSession = (socket: Duplex) => {
    let session: ServerHttp2Session | undefined;
    const onSession = (created: ServerHttp2Session) => (session = created);
    // node creates the session, and emits it, within this call.
    http2.once('session', onSession);
    http2.emit('connection', socket);
    http2.removeListener('session', onSession);
    if (session === undefined) {
      socket.destroy();
      return;
    }
    const own = session;
    sessions.set(own, socket);
    own.once('close', () => sessions.delete(own));
    own.setTimeout(options.idleTimeoutMs, () => own.close());
    socket.once('finish', () => setTimeout(() => socket.destroy(), HALF_CLOSED_GRACE_MS).unref());
    options.onUpgrade?.();
  };

  const switchToHttp2 = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.write(SWITCHING_PROTOCOLS);
    waiting.add(socket);
    const received: Buffer[] = [head];
    let length = head.length;
    let needs = 0;
    const stop = () => {
      waiting.delete(socket);
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('error', onError);
      socket.removeListener('close', stop);
    };
    const onError = () => {
      stop();
      socket.destroy();
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received.push(chunk);
        length += chunk.length;
      }
      if (length < needs) return;
      const bytes = Buffer.concat(received, length);
      received.splice(0, received.length, bytes);
      const end = prefaceLength(bytes);
      if (typeof end === 'object') {
        needs = end.needs;
        return;
      }
      stop();
      if (end === 'invalid') {
        socket.destroy();
        return;
      }
      socket.unshift(Buffer.concat([bytes.subarray(0, end), upgradedRequestFrames(req), bytes.subarray(end)]));
      startSession(socket);
    };
    const timer = setTimeout(onError, prefaceTimeoutMs);
    timer.unref();
    socket.on('error', onError);
    socket.on('close', stop);
    socket.on('readable', onReadable);
    onReadable();
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // node took its own error listener off the socket: one must stay on it while the answers
    // before this request are sent, or a reset connection would crash the process.
    const whileWaiting = () => socket.destroy();
    socket.on('error', whileWaiting);
    afterPendingAnswers(socket, () => {
      socket.removeListener('error', whileWaiting);
      // A closing server switches nothing: fastify answers the request over HTTP/1.1 (a 503).
      if (server.listening && wantsH2c(req)) {
        switchToHttp2(req, socket, head);
      } else {
        socket.unshift(Buffer.concat([withoutUpgrade(req), head]));
        server.emit('connection', socket);
      }
    });
  });

  return {
    close() {
      for (const socket of waiting) socket.destroy();
      for (const session of sessions.keys()) session.close();
    },
    destroy() {
      for (const socket of waiting) socket.destroy();
      for (const socket of sessions.values()) socket.destroy();
    },
  };
}
