// `/me`: the page `cargo login` points people to. With OIDC or local passwords it starts a sign-in
// (routes/login.ts) that ends on a page with the user's token; with neither, it tells how to get a
// token from an administrator and how to give it to cargo.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function mePage(indexUrl: string): string {
  const url = escapeHtml(indexUrl);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Get a token · cratekeeper</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>Get a token for this registry</h1>
<p>Every request to this registry needs a token. Ask an administrator to create one for you:</p>
<pre><code>cratekeeper token create --user YOUR_NAME --name laptop</code></pre>
<p>Then tell cargo about the registry in <code>~/.cargo/config.toml</code>:</p>
<pre><code>[registries.private]
index = "sparse+${url}"
credential-provider = "cargo:token"</code></pre>
<p>and store the token (cargo reads it from standard input):</p>
<pre><code>cargo login --registry private</code></pre>
</main>
</body>
</html>
`;
}

export type SignIn = (request: FastifyRequest, reply: FastifyReply, purpose: 'token') => Promise<FastifyReply | undefined>;

export function meRoutes(app: FastifyInstance, indexUrl: () => string, signIn?: SignIn): void {
  app.get('/me', async (request, reply) =>
    (await signIn?.(request, reply, 'token')) ??
    reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'").send(mePage(indexUrl())),
  );
}
