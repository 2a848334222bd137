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
// body, not GET or HEAD) is answered by the HTTP/1.1 server as if it had not asked, and its
// connection closes after that answer.

import type { IncomingMessage, Server } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { Duplex } from 'node:stream';
import { upgradedRequestFrames } from './http2-request-frames.js';

const CONNECTION_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const FRAME_HEADER_LENGTH = 9;
const SETTINGS = 0x4;
/** RFC 7540 §4.2: a client's first SETTINGS frame can be no larger before the server's SETTINGS. */
const MAX_SETTINGS_PAYLOAD = 16_384;
/** How long a client may take to send its connection preface after the 101. */
export const PREFACE_TIMEOUT_MS = 10_000;

const SWITCHING_PROTOCOLS = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n';

function listsToken(header: string | undefined, token: string): boolean {
  return header !== undefined && header.split(',').some((item) => item.trim().toLowerCase() === token);
}

/** Whether the request may switch: a GET or HEAD without body, asking for h2c with its settings. */
export function wantsH2c(req: IncomingMessage): boolean {
  return (
    (req.method === 'GET' || req.method === 'HEAD') &&
    req.httpVersion === '1.1' &&
    req.url!.startsWith('/') &&
    req.headers['content-length'] === undefined &&
    req.headers['transfer-encoding'] === undefined &&
    typeof req.headers['http2-settings'] === 'string' &&
    listsToken(req.headers.upgrade, 'h2c')
  );
}

/**
 * How far `bytes` is a valid start of a client connection: 'incomplete', 'invalid', or the length
 * of the preface and its SETTINGS frame, after which the upgraded request's frames go.
 */
export function prefaceLength(bytes: Buffer): number | 'incomplete' | 'invalid' {
  const magic = Math.min(bytes.length, CONNECTION_PREFACE.length);
  if (!bytes.subarray(0, magic).equals(CONNECTION_PREFACE.subarray(0, magic))) return 'invalid';
  const frameStart = CONNECTION_PREFACE.length;
  if (bytes.length < frameStart + FRAME_HEADER_LENGTH) return 'incomplete';
  const length = bytes.readUIntBE(frameStart, 3);
  const isSettings = bytes[frameStart + 3] === SETTINGS && bytes[frameStart + 4] === 0 && bytes.readUInt32BE(frameStart + 5) === 0;
  if (!isSettings || length % 6 !== 0 || length > MAX_SETTINGS_PAYLOAD) return 'invalid';
  const end = frameStart + FRAME_HEADER_LENGTH + length;
  return bytes.length < end ? 'incomplete' : end;
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

export interface H2cOptions {
  /** Called for each connection switched to HTTP/2. */
  onUpgrade?: () => void;
  prefaceTimeoutMs?: number;
}

/** Answers `server`'s upgrade requests: h2c ones on `http2`'s sessions, the rest as plain HTTP/1.1. */
export function acceptH2cUpgrades(server: Server, http2: Http2Server, options: H2cOptions = {}): void {
  const prefaceTimeoutMs = options.prefaceTimeoutMs ?? PREFACE_TIMEOUT_MS;

  const switchToHttp2 = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.write(SWITCHING_PROTOCOLS);
    let received = head;
    const stop = () => {
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('error', onError);
    };
    const onError = () => {
      stop();
      socket.destroy();
    };
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) received = Buffer.concat([received, chunk]);
      const end = prefaceLength(received);
      if (end === 'incomplete') return;
      stop();
      if (end === 'invalid') {
        socket.destroy();
        return;
      }
      socket.unshift(Buffer.concat([received.subarray(0, end), upgradedRequestFrames(req), received.subarray(end)]));
      options.onUpgrade?.();
      http2.emit('connection', socket);
    };
    const timer = setTimeout(onError, prefaceTimeoutMs);
    timer.unref();
    socket.on('error', onError);
    socket.on('readable', onReadable);
    onReadable();
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (wantsH2c(req)) {
      switchToHttp2(req, socket, head);
    } else {
      socket.unshift(Buffer.concat([withoutUpgrade(req), head]));
      server.emit('connection', socket);
    }
  });
}
