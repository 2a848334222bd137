// Rustdoc pages (docs/rustdoc.md). Doc comments may hold any HTML, so the pages must not be able to
// act as the signed-in reader. Every answer here carries `Content-Security-Policy: sandbox
// allow-scripts allow-popups`: without `allow-same-origin` the page runs in an opaque origin, so it
// cannot read the registry's cookies or responses, its requests carry no SameSite cookie, and it
// cannot submit forms at all. Its own files are then reached with a capability instead of the
// session: `/docs/<crate>/<version>/<path>`, authenticated as the pages are (browser session, or a
// token), redirects to `/docs/~/<ticket>/<crate>/<version>/<path>` (auth/docs-tickets.ts), and
// rustdoc's relative links keep the ticket. A reader who may not read the crate gets the 404 a
// crate that does not exist gets.

import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { DocsTickets } from '../../auth/docs-tickets.js';
import type { WebSessions } from '../../auth/web-sessions.js';
import { docsEntryPath } from '../../domain/docs-archive.js';
import { notFound, RegistryError } from '../../domain/errors.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { DocsService } from '../../services/docs.js';
import type { DocsStore } from '../../services/docs-store.js';
import type { Tokens } from '../../ports/tokens.js';
import type { AccessPolicy } from '../../auth/access-policy.js';
import { pageErrors } from '../error-mapper.js';
import { signInUrl } from '../page-viewer.js';
import { sendStream } from '../stream-release.js';
import type { RoutePlugin } from '../zod-type-provider.js';

export interface DocsPageOptions {
  docs: DocsService;
  store: DocsStore;
  tickets: DocsTickets;
  tokens: Tokens;
  policy: AccessPolicy;
  sessions: WebSessions;
  audit: AuditRecorder;
  /** The read group's token check, for scripts that fetch docs with a token. */
  authenticateRead: onRequestHookHandler;
  signInRequired: boolean;
  now: () => number;
}

/** What every docs answer carries (redirects and errors too): the sandbox, and no Referer out. */
const ISOLATION_HEADERS = {
  'content-security-policy': "sandbox allow-scripts allow-popups; form-action 'none'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
};

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  json: 'application/json',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  ttf: 'font/ttf',
  txt: 'text/plain; charset=utf-8',
  md: 'text/plain; charset=utf-8',
};

const contentTypeOf = (path: string) => CONTENT_TYPES[/\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase() ?? ''] ?? 'application/octet-stream';

/** The query string of a request, with its `?`, or ''. */
const queryOf = (url: string) => (url.includes('?') ? url.slice(url.indexOf('?')) : '');

function runHook(hook: onRequestHookHandler, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  return new Promise((resolve, reject) => {
    void (hook as (req: FastifyRequest, rep: FastifyReply, done: (error?: Error) => void) => void).call(
      request.server,
      request,
      reply,
      (error) => (error ? reject(error) : resolve()),
    );
  });
}

type DocsParams = { name: string; version: string; '*'?: string };
type TicketParams = DocsParams & { ticket: string };

export const docsPageRoutes: RoutePlugin<DocsPageOptions> = async (app, options) => {
  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(ISOLATION_HEADERS);
  });

  // The entry: authenticated like the pages, answered with a redirect that carries a ticket.
  await app.register(async (entry) => {
    entry.addHook('onRequest', async (request, reply) => {
      const cookieSent = request.headers.cookie?.includes('ck_session=') ?? false;
      request.principal = cookieSent ? await options.sessions.principal(request.headers.cookie, request.ip) : null;
      if (!request.principal && request.headers.authorization !== undefined) await runHook(options.authenticateRead, request, reply);
      if (!request.principal && options.signInRequired) {
        const next = request.method === 'GET' || request.method === 'HEAD' ? request.url : '/';
        return reply.header('cache-control', 'no-store').redirect(signInUrl(next), 303);
      }
      return undefined;
    });
    entry.setErrorHandler(pageErrors({ audit: options.audit }));
    const toTicket = async (request: FastifyRequest<{ Params: DocsParams }>, reply: FastifyReply) => {
      const { name, version } = request.params;
      const docs = await options.docs.resolve(request.principal, name, version);
      const ticket = await options.tickets.issue(request.principal?.tokenId ?? 0, docs.crate, docs.version);
      const rest = (request.params['*'] ?? '').split('/').map(encodeURIComponent).join('/');
      const target = `/docs/~/${ticket}/${encodeURIComponent(docs.crate)}/${encodeURIComponent(docs.version)}/${rest}${queryOf(request.url)}`;
      return reply.header('cache-control', 'no-store').redirect(target, 303);
    };
    entry.get<{ Params: DocsParams }>('/docs/:name/:version', toTicket);
    entry.get<{ Params: DocsParams }>('/docs/:name/:version/*', toTicket);
  });

  // The files, with a ticket: no cookie comes with these requests from the sandboxed page.
  await app.register(async (files) => {
    files.setErrorHandler((error, request, reply) => {
      const status = error instanceof RegistryError && error.kind === 'not-found' ? 404 : 500;
      if (status === 500) request.log.error({ err: error, url: request.url }, 'docs file failed');
      return reply
        .code(status)
        .type('text/plain; charset=utf-8')
        .send(status === 404 ? 'Not found\n' : 'Something went wrong\n');
    });
    files.get<{ Params: TicketParams }>('/docs/~/:ticket/:name/:version/*', async (request, reply) => {
      const { ticket, name, version } = request.params;
      const rest = request.params['*'] ?? '';
      const tokenId = await options.tickets.verify(ticket, name, version);
      const reader = tokenId === undefined ? undefined : tokenId === 0 ? null : await options.tokens.findPrincipalByTokenId(tokenId);
      const expired = (p: NonNullable<typeof reader>) =>
        p.disabled === true || (p.expiresAt !== null && Date.parse(p.expiresAt) <= options.now());
      if (reader === undefined || (reader !== null && expired(reader)) || (reader === null && options.signInRequired)) {
        // A stale or foreign ticket: back to the entry, which asks the reader's session again.
        const entryPath = `/docs/${encodeURIComponent(name)}/${encodeURIComponent(version)}/${rest.split('/').map(encodeURIComponent).join('/')}`;
        return reply.header('cache-control', 'no-store').redirect(`${entryPath}${queryOf(request.url)}`, 303);
      }
      const docs = await options.docs.resolve(reader, name, version);
      let path: string;
      try {
        path = docsEntryPath(rest);
      } catch {
        throw notFound('docs-not-found', 'no such file');
      }
      if (path === '' || rest.endsWith('/')) {
        const index = path === '' ? 'index.html' : `${path}/index.html`;
        const found = await options.store.open(docs.docsKey, index);
        if (!found && path === '') {
          // rustdoc writes no index.html at the root: the crate's own page is `<lib name>/index.html`.
          return reply
            .header('cache-control', 'no-store')
            .redirect(`${docs.crate.replaceAll('-', '_')}/index.html${queryOf(request.url)}`, 303);
        }
        path = index;
      }
      const file = await options.store.open(docs.docsKey, path);
      if (!file) throw notFound('docs-not-found', 'no such file');
      reply.header('cache-control', 'private, max-age=300').header('content-length', file.size).type(contentTypeOf(path));
      return sendStream(reply, file.stream);
    });
  });
};
