// `/me`: the page `cargo login` points people to. With OIDC or local passwords it starts a sign-in
// (sign-in-flows.ts) that ends on a page with the user's token; with neither, it tells how to get a
// token from an administrator and how to give it to cargo. `GET /me/replace_token` is the same
// sign-in, ending with the old login token revoked and a new one shown: the way out when a token
// leaks. A refusal at the start with the OpenID provider is a sign-in page.

import { html, sendPage } from '../pages/html.js';
import type { RoutePlugin } from '../zod-type-provider.js';
import type { SignInRouteOptions } from './sign-in-pages.js';

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

export interface MeOptions extends SignInRouteOptions {
  indexUrl: () => string;
  registryName: string;
}

export const meRoutes: RoutePlugin<MeOptions> = async (app, { flows, signInErrors, indexUrl, registryName }) => {
  // Only the start at the provider shows its refusals as pages; the local form needs no such help.
  const routeOptions = flows.deps.oidc ? { errorHandler: signInErrors } : {};

  app.get(
    '/me',
    routeOptions,
    async (request, reply) =>
      (await flows.signIn(request, reply, 'token')) ??
      sendPage(reply, 200, 'Get a token for this registry', noSignInBody(indexUrl(), registryName)),
  );

  app.get(
    '/me/replace_token',
    routeOptions,
    async (request, reply) => (await flows.signIn(request, reply, 'replace')) ?? reply.redirect('/me', 302),
  );
};
