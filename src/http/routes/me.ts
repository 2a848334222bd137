// `/me`: the page `cargo login` points people to. With OIDC or local passwords it starts a sign-in
// (routes/login.ts) that ends on a page with the user's token; with neither, it tells how to get a
// token from an administrator and how to give it to cargo.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, sendPage } from '../pages/html.js';

function noSignInBody(indexUrl: string, registryName: string) {
  return html`<p>Every request to this registry needs a token. Ask an administrator to create one for you:</p>
<pre><code>cratekeeper token create --user YOUR_NAME --name laptop</code></pre>
<p>Then tell cargo about the registry in <code>~/.cargo/config.toml</code>:</p>
<pre><code>[registries.${registryName}]
index = "sparse+${indexUrl}"
credential-provider = "cargo:token"</code></pre>
<p>and store the token (cargo reads it from standard input):</p>
<pre><code>cargo login --registry ${registryName}</code></pre>
<p>With a token that has every scope you can also <a href="/sign-in">sign in to the web pages</a>.</p>`;
}

export type SignIn = (request: FastifyRequest, reply: FastifyReply, purpose: 'token') => Promise<FastifyReply | undefined>;

export function meRoutes(app: FastifyInstance, options: { indexUrl: () => string; registryName: string }, signIn?: SignIn): void {
  app.get('/me', async (request, reply) =>
    (await signIn?.(request, reply, 'token')) ??
    sendPage(reply, 200, 'Get a token for this registry', noSignInBody(options.indexUrl(), options.registryName)),
  );
}
