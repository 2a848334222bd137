// The home page (search, how to point cargo at this registry) and search results with paging.

import type { SearchResult } from '../../services/search.js';
import { clip, html, type RawHtml } from './html.js';

/** Characters of a description in a search result. */
const DESCRIPTION_IN_RESULTS = 500;

export function homeBody(input: { crateCount: number; registryName: string; indexUrl: string }): RawHtml {
  return html`<form class="search" role="search" method="get" action="/search">
<label for="home-search">Find a crate by name or description</label>
<p class="install"><input id="home-search" type="search" name="q" maxlength="200"> <button type="submit">Search</button></p>
</form>
<p><a href="/search?q=">Browse all ${input.crateCount} crate${input.crateCount === 1 ? '' : 's'}</a> you can see.</p>
<h2>Use this registry with cargo</h2>
<p>In <code>~/.cargo/config.toml</code>:</p>
<pre><code>[registries.${input.registryName}]
index = "sparse+${input.indexUrl}"
credential-provider = "cargo:token"</code></pre>
<p>Then create a token under <a href="/tokens">My tokens</a> and store it with <code>cargo login --registry ${input.registryName}</code>.</p>`;
}

export function searchBody(input: { query: string; page: number; perPage: number; result: SearchResult }): RawHtml {
  const { result, page, perPage, query } = input;
  const total = result.meta.total;
  const pageLink = (p: number) => `/search?${new URLSearchParams({ q: query, page: String(p) }).toString()}`;
  const first = total === 0 ? 0 : (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return html`<p id="result-count" role="status">${total === 0 ? `No crates match “${query}”.` : `${first}–${last} of ${total} crate${total === 1 ? '' : 's'}${query ? ` matching “${query}”` : ''}.`}</p>
<ul class="results" id="results">${result.crates.map(
    (
      c,
    ) => html`<li><a href="/crates/${encodeURIComponent(c.name)}"><strong>${c.name}</strong></a> <span class="muted">${c.max_version}</span>
${c.description ? html`<br>${clip(c.description, DESCRIPTION_IN_RESULTS)}` : ''}</li>`,
  )}</ul>
<nav class="pager" aria-label="Result pages">${page > 1 ? html`<a href="${pageLink(page - 1)}" rel="prev">Previous page</a>` : ''}${last < total ? html`<a href="${pageLink(page + 1)}" rel="next">Next page</a>` : ''}</nav>`;
}
