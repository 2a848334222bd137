// The page at the end of a sign-in: the user's cargo token, shown once, with the exact commands
// that give it to cargo; or, when the user already has one, how to replace it.

import { html, type RawHtml } from './html.js';

export interface TokenPageInput {
  login: string;
  registryName: string;
  indexUrl: string;
  replaceUrl: string;
}

function cargoSetup(input: TokenPageInput): RawHtml {
  return html`<p>Tell cargo about the registry in <code>~/.cargo/config.toml</code>:</p>
<pre><code>[registries.${input.registryName}]
index = "sparse+${input.indexUrl}"
credential-provider = "cargo:token"</code></pre>`;
}

export function newTokenBody(input: TokenPageInput & { token: string; replaced: number }): RawHtml {
  return html`<p>Signed in as <strong id="login">${input.login}</strong>.${input.replaced > 0 ? ` Your previous login token was revoked.` : ''}</p>
<p>Your cargo token (shown only this once; it is stored only as a hash):</p>
<pre><code class="token" id="token">${input.token}</code></pre>
${cargoSetup(input)}
<p>Then store the token (cargo reads it from standard input):</p>
<pre><code>cargo login --registry ${input.registryName}</code></pre>
<p>or in one line:</p>
<pre><code>echo ${input.token} | cargo login --registry ${input.registryName}</code></pre>
<p>If this token ever leaks, <a href="${input.replaceUrl}">replace it</a>: the old one stops working at once.</p>`;
}

export function existingTokenBody(input: TokenPageInput & { createdAt: string }): RawHtml {
  return html`<p>Signed in as <strong id="login">${input.login}</strong>.</p>
<p>You already have a login token (created ${input.createdAt}). Tokens are stored only as hashes, so it cannot be shown again.
If you lost it or it leaked, <a href="${input.replaceUrl}">replace it</a>: the old one is revoked and a new one shown.</p>
${cargoSetup(input)}
<pre><code>cargo login --registry ${input.registryName}</code></pre>`;
}
