// The lean path for the two requests cargo sends most: index files (and config.json) and crate
// downloads, answered on node's (req, res) before fastify sees them (issue 13: fastify's routing,
// hooks and reply cost a visible share of those requests). It answers only what it can answer
// exactly as the fastify routes do, with the same functions: the authentication decision
// (authentication.ts), `readIndexFile` and `indexFileAnswer`, `openDownload` (`openDownloadFile`
// for a GET over HTTP/2), /metrics' request counts. Everything else goes to fastify untouched:
// other paths and methods, a request with a body, a URL that fastify's router would decode or
// refuse, an index path that is not well-formed (fastify answers it 404), a token that is not
// decided from memory or is refused (so that refusals are counted and rate-limited in one place),
// a download that a mirror may answer, and a server that is closing. A request that fails after
// the lean path took it (404 for a download, a policy refusal, a store error) is handed to fastify
// with its error, and fastify's error handler answers it as it answers the route's own errors.

import { once } from 'node:events';
import { pipeline } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Http2ServerResponse, type Http2ServerRequest } from 'node:http2';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenAuthenticator } from '../auth/token-authenticator.js';
import type { Metrics } from '../services/metrics.js';
import { crateNameFromIndexPath } from '../domain/crate-name.js';
import { indexFileFormFor } from '../services/index-files.js';
import type { Caller } from './audit-source.js';
import { admittedPrincipal, type AuthenticationOptions } from './authentication.js';
import { ERRORS_CONTENT_TYPE, errorsJson } from './error-mapper.js';
import { indexFileAnswer } from './index-file-reply.js';
import { openDownload, openDownloadFile, type DownloadOptions } from './routes/downloads.js';
import { releaseWithResponse } from './stream-release.js';
import type { IndexFile } from '../domain/index-file.js';
import { CONFIG_JSON_HEADERS, noIndexFile, readIndexFile, type SparseIndexOptions } from './routes/sparse-index.js';

export interface FastLaneOptions {
  auth: TokenAuthenticator;
  /** The read group's rule (app.ts): whether a token is needed, and the scope. */
  authentication: Pick<AuthenticationOptions, 'tokenRequired' | 'scope'>;
  index: SparseIndexOptions;
  downloads: DownloadOptions;
  metrics: Metrics;
  log: FastifyBaseLogger;
  /** The client's address, as fastify's `request.ip` reads it (client-address.ts). */
  clientAddress: (req: IncomingMessage) => string;
}

/** Answers the request and returns true, or returns false (having done nothing) for fastify to answer. */
export type FastLane = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Where the lean path leaves a request's error for fastify (see `failureOf`). */
const FAILED = Symbol('fast-lane failure');
type HandedOver = IncomingMessage & { [FAILED]?: Error };

/** The error the lean path met before handing this request over, for fastify to answer. */
export function failureOf(req: IncomingMessage): Error | undefined {
  return (req as HandedOver)[FAILED];
}

// The route patterns of the fastify routes (sparse-index.ts, downloads.ts), as /metrics names them.
const CONFIG_ROUTE = '/index/config.json';
const INDEX_ROUTE = '/index/*';
const DOWNLOAD_ROUTE = '/api/v1/crates/:name/:version/download';
const INDEX_PREFIX = '/index/';
const DOWNLOAD = /^\/api\/v1\/crates\/([^/]+)\/([^/]+)\/download$/;
// What fastify's router decodes or treats apart in a download's path (percent-escapes, `;`, a
// fragment): left to it. An index path is read whole by `crateNameFromIndexPath`.
const UNUSUAL = /[%;#]/;
// fastify's default maxParamLength: a longer parameter matches no route there.
const MAX_PARAM_LENGTH = 100;

/** The connection a request came on, for the token check's memo: the HTTP/2 session, or the socket. */
function connectionOf(req: IncomingMessage): object {
  return (req as unknown as Partial<Http2ServerRequest>).stream?.session ?? req.socket;
}

export function fastLane(options: FastLaneOptions, handOver: (req: IncomingMessage, res: ServerResponse) => void): FastLane {
  const { auth, authentication, metrics, log, clientAddress } = options;

  /**
   * Sends a whole answer, counted in /metrics as fastify's onResponse hook counts it (here as soon as
   * the answer is handed to the socket). `headers` is the answer's own: the length is added to it.
   */
  const send = (
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    route: string,
    status: number,
    headers: Record<string, string>,
    body?: Buffer | string,
  ) => {
    if (body === undefined) {
      // fastify gives a HEAD without body a zero length, and a GET `304` none.
      if (req.method === 'HEAD') headers['content-length'] = '0';
      res.writeHead(status, headers);
      res.end();
    } else {
      headers['content-length'] = String(Buffer.byteLength(body));
      res.writeHead(status, headers);
      if (req.method === 'HEAD') res.end();
      else res.end(body);
    }
    metrics.observeRequest(route, req.method!, status, performance.now() - started);
  };
  const countOnFinish = (req: IncomingMessage, res: ServerResponse | Http2ServerResponse, started: number, route: string) => {
    res.once('finish', () => metrics.observeRequest(route, req.method!, res.statusCode, performance.now() - started));
  };
  const fail = (req: IncomingMessage, res: ServerResponse) => (error: Error) => {
    if (res.headersSent) {
      log.error({ err: error, url: req.url }, 'fast lane: failed after the headers were sent');
      res.destroy();
      return;
    }
    (req as HandedOver)[FAILED] = error;
    handOver(req, res);
  };

  const answerIndexFile = (req: IncomingMessage, res: ServerResponse, started: number, path: string, file: IndexFile | undefined) => {
    if (!file) return send(req, res, started, INDEX_ROUTE, 404, { 'content-type': ERRORS_CONTENT_TYPE }, errorsJson(noIndexFile(path)));
    const answer = indexFileAnswer(req.headers, file, options.index.indexFiles);
    send(req, res, started, INDEX_ROUTE, answer.status, answer.headers, answer.body);
  };

  /** In the same turn when the file is in memory (the hot path), else once the store answers. */
  const serveIndex = (req: IncomingMessage, res: ServerResponse, started: number, caller: Caller, path: string, name: string) => {
    try {
      const file = readIndexFile(options.index, caller, name, indexFileFormFor(req.headers['accept-encoding']));
      if (file instanceof Promise) {
        file.then((read) => answerIndexFile(req, res, started, path, read)).catch(fail(req, res));
      } else {
        answerIndexFile(req, res, started, path, file);
      }
    } catch (error) {
      fail(req, res)(error as Error);
    }
  };

  /**
   * A GET over HTTP/2 from a store of local files: node sends the file from native code
   * (`respondWithFD`), with no JavaScript stream, read or write per chunk (issue 13: that was most
   * of the server's CPU in a `cargo fetch`). Errors before the headers go to fastify as below.
   */
  const sendDownloadFile = async (
    req: IncomingMessage,
    res: Http2ServerResponse,
    started: number,
    caller: Caller,
    name: string,
    version: string,
  ) => {
    const { handle, headers } = await openDownloadFile(options.downloads, caller, name, version);
    const stream = res.stream;
    const closeFile = () => handle.close().catch((error: Error) => log.error({ err: error }, 'fast lane: closing a download failed'));
    // A client gone while the file opened (a cancelled stream): nothing to send.
    if (stream.closed || stream.destroyed) return void closeFile();
    stream.once('close', closeFile);
    countOnFinish(req, res, started, DOWNLOAD_ROUTE);
    stream.respondWithFD(handle, { ':status': 200, ...headers });
  };

  const serveDownload = async (
    req: IncomingMessage,
    res: ServerResponse,
    started: number,
    caller: Caller,
    name: string,
    version: string,
  ) => {
    if (req.method === 'GET' && res instanceof Http2ServerResponse && options.downloads.downloads.opensFiles) {
      return sendDownloadFile(req, res, started, caller, name, version);
    }
    const { stream, headers } = await openDownload(options.downloads, caller, name, version);
    // A client gone while the file opened (a cancelled HTTP/2 stream) closes it (stream-release.ts).
    if (!releaseWithResponse(res, stream)) return;
    if (req.method !== 'HEAD') {
      // The headers go once the file has bytes to send, as fastify's reply of a stream waits for
      // them: a file that fails first (opened after its size was read: gone, too many open files)
      // is handed to fastify's error handler for its 500, not answered by a closed connection.
      try {
        await Promise.race([once(stream, 'readable'), once(stream, 'close')]);
      } catch (error) {
        stream.destroy();
        throw error;
      }
      // Closed without an error: by the client leaving while the file was read.
      if (stream.destroyed) return;
    }
    countOnFinish(req, res, started, DOWNLOAD_ROUTE);
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      // As fastify's HEAD route does with a stream: read it to its end, send nothing.
      stream.on('error', (error) => log.error({ err: error }, 'Error on Stream found for HEAD route'));
      stream.resume();
      res.end();
      return;
    }
    pipeline(stream, res, (error) => {
      if (error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') log.error({ err: error, url: req.url }, 'fast lane: download failed');
    });
  };

  return (req, res) => {
    const method = req.method;
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return false;
    const url = req.url!;
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    let download: RegExpExecArray | null = null;
    let indexPath: string | undefined;
    let crate: string | undefined;
    if (path.startsWith(INDEX_PREFIX)) {
      if (path !== CONFIG_ROUTE) {
        // Only a well-formed index path: fastify decodes and answers the rest (a 404, after its own
        // token check), as it answers its route's.
        indexPath = path.slice(INDEX_PREFIX.length);
        crate = crateNameFromIndexPath(indexPath);
        if (crate === undefined) return false;
      }
    } else {
      if (UNUSUAL.test(path)) return false;
      download = DOWNLOAD.exec(path);
      if (download === null || download[1]!.length > MAX_PARAM_LENGTH || download[2]!.length > MAX_PARAM_LENGTH) return false;
      // A mirror may answer this download (mirror.ts's handover): fastify's route runs it.
      if (method === 'GET' && options.downloads.mirrorHandover !== undefined) return false;
    }
    // The read group's authentication, decided from memory and admitted, or fastify decides.
    const outcome = auth.authenticateFromCache(req.headers.authorization, connectionOf(req));
    if (outcome === undefined) return false;
    const principal = admittedPrincipal(outcome, authentication);
    if (principal === undefined) return false;

    const started = performance.now();
    const caller: Caller = { principal, ip: clientAddress(req), headers: req.headers };
    if (download !== null) {
      serveDownload(req, res, started, caller, download[1]!, download[2]!).catch(fail(req, res));
    } else if (crate !== undefined) {
      serveIndex(req, res, started, caller, indexPath!, crate);
    } else {
      send(req, res, started, CONFIG_ROUTE, 200, { ...CONFIG_JSON_HEADERS }, options.index.configJson());
    }
    return true;
  };
}
