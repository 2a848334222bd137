// Server-rendered HTML: one escaping template tag and one layout. Pages carry no inline script or
// style and a strict Content-Security-Policy; forms post only to this registry.

import type { FastifyReply } from 'fastify';
import { SCRIPT_FILE, STYLESHEET } from './assets.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Text a publisher wrote, cut to `max` characters with an ellipsis. A publish body may be 10 MB of
 * metadata, and pages render on every view (a search page shows 20 crates): each field shown is cut
 * well above anything real, so a page costs about the same whatever was published.
 */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** A tagged template whose interpolations are escaped unless wrapped in `raw`. */
export interface RawHtml {
  readonly html: string;
}
export const raw = (html: string): RawHtml => ({ html });

type Value = string | number | RawHtml | RawHtml[];

export function html(strings: TemplateStringsArray, ...values: Value[]): RawHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    if (Array.isArray(value)) out += value.map((v) => v.html).join('');
    else out += typeof value === 'object' ? value.html : escapeHtml(String(value));
    out += strings[i + 1]!;
  });
  return raw(out);
}

/** Who is looking at a page, for the navigation bar. */
export interface PageViewer {
  login: string;
  isAdmin: boolean;
  /** The CSRF token of the session (the sign-out form carries it). */
  csrf: string;
}

export interface PageOptions {
  /** Absent: a page outside the browsing session (sign-in steps); null: not signed in. */
  viewer?: PageViewer | null;
  /** The search box's text. */
  query?: string;
}

function navigation(options: PageOptions): RawHtml {
  if (options.viewer === undefined) return html`<nav aria-label="Site"><a class="brand" href="/">cratekeeper</a></nav>`;
  const viewer = options.viewer;
  const account = viewer
    ? html`<a href="/tokens">My tokens</a>${viewer.isAdmin ? html` <a href="/admin">Admin</a>` : ''}
<span class="muted">Signed in as <strong id="viewer">${viewer.login}</strong></span>
<form class="inline" method="post" action="/sign-out"><input type="hidden" name="csrf" value="${viewer.csrf}"><button class="secondary" type="submit">Sign out</button></form>`
    : html`<a href="/sign-in">Sign in</a>`;
  return html`<nav aria-label="Site"><a class="brand" href="/">cratekeeper</a>
<form class="search" role="search" method="get" action="/search"><label for="site-search" class="skip">Search crates</label>
<input id="site-search" type="search" name="q" value="${options.query ?? ''}" placeholder="Search crates" maxlength="200"><button type="submit">Search</button></form>
${account}</nav>`;
}

export function page(title: string, body: RawHtml, options: PageOptions = {}): string {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} · cratekeeper</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<link rel="stylesheet" href="${STYLESHEET.path}">
<script src="${SCRIPT_FILE.path}" defer></script></head>
<body>
<a class="skip" href="#content">Skip to content</a>
<header class="site">${navigation(options)}</header>
<main id="content">
<h1>${title}</h1>
${body}
</main>
</body>
</html>
`.html;
}

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Sends a page that must not be cached (it may hold a token or private crates) nor framed. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: RawHtml, options: PageOptions = {}): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', PAGE_CSP)
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .send(page(title, body, options));
}
