// The one place where errors become HTTP answers. It decides the status of every error kind, the
// headers that go with it (`www-authenticate`, `retry-after`), what is audited and logged, and the
// body, in one of three forms, each installed as fastify error handler of its route group:
// - `apiErrors`: cargo's {"errors":[{"detail":"..."}]}, for the index and the API (the root);
// - `pageErrors`: a page, for the web interface (a missing session redirects to sign in);
// - `signInErrors`: a sign-in page with "Start again", for the sign-in steps; the kinds a sign-in
//   cannot fix by starting again go on to `apiErrors`.
// Registry errors map by kind; fastify's own client errors keep their status; anything else is a
// 500 with a generic detail, and its cause goes to the log. Requests that match no route are
// answered by unmatched-routes.ts, through `sendNoSuchPath`.

import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError, type ErrorKind } from '../domain/errors.js';
import type { AuditRecorder } from '../services/audit-recorder.js';
import { HIDDEN_CRATE_CODE } from '../services/crate-pages.js';
import { auditSource } from './audit-source.js';
import { pageOptions, signInUrl } from './page-viewer.js';
import { html, sendPage, type PageOptions } from './pages/html.js';

export const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'too-large': 413,
  'rate-limited': 429,
  unavailable: 503,
};

export type ErrorHandler = (error: FastifyError | RegistryError, request: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** cargo's error shape, as fastify's reply and the lean path (fast-lane.ts) send it. */
export const ERRORS_CONTENT_TYPE = 'application/json; charset=utf-8';
export const errorsJson = (detail: string): string => JSON.stringify({ errors: [{ detail }] });

/** cargo's error shape, for the few answers that are not errors thrown (the index's 404). */
export function sendErrors(reply: FastifyReply, status: number, detail: string): FastifyReply {
  return reply.code(status).type(ERRORS_CONTENT_TYPE).send(errorsJson(detail));
}

function problemPage(
  reply: FastifyReply,
  status: number,
  title: string,
  detail: string,
  options?: PageOptions,
  extra = html``,
): FastifyReply {
  return sendPage(reply, status, title, html`<p class="refusal" id="problem">${detail}</p>${extra}`, options);
}

/** A path no route serves: a page for a person following a stale link, cargo's shape for the rest. */
export function sendNoSuchPath(request: FastifyRequest, reply: FastifyReply, path: string): FastifyReply {
  const detail = `no such path: ${request.method} ${path}`;
  if (request.method === 'GET' && request.headers.accept?.includes('text/html')) {
    return problemPage(reply, 404, 'Not found', detail, undefined, html`<p><a href="/">Home</a></p>`);
  }
  return sendErrors(reply, 404, detail);
}

function setRetryAfter(reply: FastifyReply, error: RegistryError): void {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
}

/** A status fastify gave one of its own errors (415, a body too large, ...); undefined when it is ours to hide. */
function clientStatusOf(error: FastifyError): number | undefined {
  const status = error.statusCode ?? 500;
  return status >= 400 && status < 500 ? status : undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The setting behind a route's `bodyLimit`, named when a body is refused as too large. */
    bodyLimitSetting?: string;
  }
}

export interface ApiErrorOptions {
  /** Where `cargo login` sends people (`www-authenticate`). */
  loginUrl: () => string;
  audit: AuditRecorder;
}

/** Headers a route sets for its success answer, which an error must not carry (it is not that content). */
const SUCCESS_ONLY_HEADERS = ['etag', 'last-modified', 'cache-control'];

export function apiErrors(options: ApiErrorOptions): ErrorHandler {
  return (error, request, reply) => {
    // A download's headers are set before its file is read: a file that then fails must not leave
    // its ETag, nor its year of `immutable` caching, on the 500.
    for (const name of SUCCESS_ONLY_HEADERS) reply.removeHeader(name);
    if (error instanceof RegistryError) {
      if (error.kind === 'unauthenticated') {
        reply.header('www-authenticate', `Cargo login_url="${options.loginUrl()}"`);
      }
      setRetryAfter(reply, error);
      // A dependency that failed: the detail only names it; what the driver said goes to the log.
      if (error.kind === 'unavailable' && error.cause !== undefined) {
        request.log.warn({ err: error, reqId: request.id, url: request.url }, error.message);
      }
      // A policy refusal is audited as `policy-refused` where it is made (policy-gate.ts).
      if (error.kind === 'forbidden' && error.code !== 'policy-refused') {
        const crate = (request.params as { name?: string } | undefined)?.name;
        options.audit.record('access-refused', auditSource(request), { crate, detail: error.message });
      }
      return sendErrors(reply, STATUS_OF_KIND[error.kind], error.message);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const length = request.headers['content-length'];
      const setting = request.routeOptions.config.bodyLimitSetting;
      return sendErrors(
        reply,
        413,
        `the upload is too large${length ? ` (${length} bytes)` : ''}: this registry accepts at most ${request.routeOptions.bodyLimit} bytes${setting ? ` (${setting})` : ''}`,
      );
    }
    const status = clientStatusOf(error);
    if (status !== undefined) return sendErrors(reply, status, error.message);
    request.log.error({ err: error, reqId: request.id, url: request.url }, 'request failed');
    return sendErrors(reply, 500, `internal server error; the server log has the cause (request id ${request.id})`);
  };
}

export function pageErrors(options: { audit: AuditRecorder }): ErrorHandler {
  return (error, request, reply) => {
    if (error instanceof RegistryError) {
      if (error.code === 'sign-in-required') return reply.header('cache-control', 'no-store').redirect(signInUrl(request.url), 303);
      if (error.kind === 'forbidden' || error.code === HIDDEN_CRATE_CODE) {
        options.audit.record('access-refused', auditSource(request), { detail: `page ${request.url.split('?')[0]}: ${error.message}` });
      }
      setRetryAfter(reply, error);
      const status = STATUS_OF_KIND[error.kind];
      return problemPage(reply, status, status === 404 ? 'Not found' : 'Cannot do that', error.message, pageOptions(request));
    }
    const status = clientStatusOf(error);
    if (status !== undefined) return problemPage(reply, status, 'Bad request', error.message, pageOptions(request));
    request.log.error({ err: error, reqId: request.id, url: request.url }, 'page failed');
    return sendPage(
      reply,
      500,
      'Something went wrong',
      html`<p class="refusal">The server log has the cause (request id ${request.id}).</p>`,
      pageOptions(request),
    );
  };
}

/** The kinds a sign-in shows as a page, with its title; the others go on to the group's handler. */
const SIGN_IN_TITLES: Partial<Record<ErrorKind, string>> = {
  invalid: 'Sign-in failed',
  unauthenticated: 'Sign-in failed',
  forbidden: 'Sign-in refused',
  'rate-limited': 'Too many sign-in attempts',
  unavailable: 'Sign-in unavailable',
};

export function signInErrors(options: { audit: AuditRecorder }): ErrorHandler {
  return (error, request, reply) => {
    const title = error instanceof RegistryError ? SIGN_IN_TITLES[error.kind] : undefined;
    if (!(error instanceof RegistryError) || title === undefined) throw error;
    if (error.kind === 'unavailable') request.log.warn({ err: error }, 'sign-in failed');
    options.audit.record('login-failed', auditSource(request), { detail: error.message });
    setRetryAfter(reply, error);
    return problemPage(
      reply,
      STATUS_OF_KIND[error.kind],
      title,
      error.message,
      undefined,
      html`
<p><a href="/sign-in">Start again</a></p>`,
    );
  };
}
