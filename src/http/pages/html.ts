// Server-rendered HTML for the sign-in pages: one escaping function and one layout. Pages carry no
// script and a strict Content-Security-Policy; forms post only to this registry.

import type { FastifyReply } from 'fastify';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A tagged template whose interpolations are escaped unless wrapped in `raw`. */
export interface RawHtml {
  readonly html: string;
}
export const raw = (html: string): RawHtml => ({ html });

export function html(strings: TemplateStringsArray, ...values: (string | number | RawHtml | RawHtml[])[]): RawHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    if (Array.isArray(value)) out += value.map((v) => v.html).join('');
    else out += typeof value === 'object' ? value.html : escapeHtml(String(value));
    out += strings[i + 1]!;
  });
  return raw(out);
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}' +
  'pre{background:#f4f4f4;padding:.75rem;overflow-x:auto}code.token{word-break:break-all}' +
  'form label{display:block;margin:.5rem 0}.refusal{color:#a00}';

export function page(title: string, body: RawHtml): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)} · cratekeeper</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${STYLE}</style></head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${body.html}
</main>
</body>
</html>
`;
}

/** Sends a page that must not be cached (it may hold a token) nor framed. */
export function sendPage(reply: FastifyReply, status: number, title: string, body: RawHtml): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
    .header('referrer-policy', 'no-referrer')
    .send(page(title, body));
}
