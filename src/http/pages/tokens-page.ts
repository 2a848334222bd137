// "My tokens": the user's cargo tokens with their limits and last use, a form to create one
// (scopes, crate patterns, expiry), the new token shown once with the commands that give it to
// cargo, and the user's browser sessions.

import { describeLifetime } from '../../services/accounts.js';
import { TOKEN_SCOPES } from '../../domain/token-scope.js';
import type { TokenRecord } from '../../ports/tokens.js';
import { html, type RawHtml } from './html.js';
import type { DeviceSession } from '../../ports/device-flow.js';
import { devicesBody } from './device-lists.js';

export const EXPIRY_CHOICES = [
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: 'one year' },
  { value: 'never', label: 'never' },
] as const;

const SCOPE_HINTS: Record<(typeof TOKEN_SCOPES)[number], string> = {
  read: 'index, downloads, search (every cargo command needs it)',
  'publish-new': 'publish new crates',
  'publish-update': 'publish new versions of existing crates',
  yank: 'yank and unyank',
  'change-owners': 'add and remove owners',
  admin: 'the administration API, such as the audit log (administrators only)',
};

const when = (iso: string | null, none: string) => (iso === null ? none : iso.replace('T', ' ').slice(0, 16) + ' UTC');

function revokeForm(token: TokenRecord, csrf: string, label: string): RawHtml {
  return html`<form method="post" action="/tokens/${token.id}/revoke"><input type="hidden" name="csrf" value="${csrf}">
<button class="danger" type="submit" aria-label="${label} ${token.name} (id ${token.id})">${label}</button></form>`;
}

function tokenRows(tokens: TokenRecord[], csrf: string): RawHtml {
  if (tokens.length === 0) return html`<p class="muted">You have no active tokens.</p>`;
  return html`<table id="tokens"><thead><tr><th scope="col">Name</th><th scope="col">Scopes</th><th scope="col">Crates</th>
<th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col"><span class="skip">Action</span></th></tr></thead>
<tbody>${tokens.map(
    (
      t,
    ) => html`<tr data-token-id="${t.id}"><td>${t.name}</td><td>${t.scopes?.join(', ') ?? 'all'}</td><td>${t.cratePatterns?.join(', ') ?? 'all'}</td>
<td>${when(t.createdAt, '')}</td><td>${when(t.lastUsedAt, 'never')}</td><td>${when(t.expiresAt, 'never')}</td><td>${revokeForm(t, csrf, 'Revoke')}</td></tr>`,
  )}</tbody></table>`;
}

/** The expiry choices; under a cap, those within it and the cap itself, chosen by default. */
function expiryOptions(capMs: number | undefined): RawHtml[] {
  if (capMs === undefined) {
    return EXPIRY_CHOICES.map((c) => html`<option value="${c.value}"${c.value === '90' ? html` selected` : ''}>${c.label}</option>`);
  }
  const within = EXPIRY_CHOICES.filter((c) => c.value !== 'never' && Number(c.value) * 86_400_000 < capMs);
  return [
    ...within.map((c) => html`<option value="${c.value}">${c.label}</option>`),
    html`<option value="cap" selected>${describeLifetime(capMs)} (the longest allowed here)</option>`,
  ];
}

// `admin` is the one scope a token must be given on purpose: unchecked unless the user ticks it.
function createForm(csrf: string, capMs?: number): RawHtml {
  return html`<form class="stack" method="post" action="/tokens" id="create-token">
<input type="hidden" name="csrf" value="${csrf}">
<label for="token-name">Name <span class="hint">what it is for, e.g. “laptop” or “CI for foo”</span></label>
<input id="token-name" name="name" required maxlength="100">
<fieldset><legend>Scopes</legend>${TOKEN_SCOPES.map(
    (s) =>
      html`<label><input type="checkbox" name="scopes" value="${s}"${s === 'admin' ? '' : html` checked`}> <code>${s}</code> <span class="muted">${SCOPE_HINTS[s]}</span></label>`,
  )}</fieldset>
<label for="token-crates">Crates <span class="hint">patterns such as <code>foo</code> or <code>foo-*</code>, separated by spaces or commas; empty: every crate. They limit publish, yank and owner changes.</span></label>
<input id="token-crates" name="crates" maxlength="1000">
<label for="token-expiry">Expires after</label>
<select id="token-expiry" name="expiry">${expiryOptions(capMs)}</select>
<p><button type="submit">Create token</button></p>
</form>`;
}

export function tokensBody(input: {
  tokens: TokenRecord[];
  sessions: TokenRecord[];
  currentSessionId: number;
  csrf: string;
  notice?: string;
  devices?: DeviceSession[];
  /** auth.max_token_lifetime: the form offers expiries up to it, and the cap itself by default. */
  capMs?: number;
}): RawHtml {
  return html`${input.notice ? html`<p class="notice" role="status" id="notice">${input.notice}</p>` : ''}
<h2>Active tokens</h2>
${tokenRows(input.tokens, input.csrf)}
${devicesBody(input.devices ?? [], input.csrf)}
<h2>Create a token</h2>
${createForm(input.csrf, input.capMs)}
<h2>Browser sessions</h2>
<table id="sessions"><thead><tr><th scope="col">Started</th><th scope="col">Expires</th><th scope="col"><span class="skip">Action</span></th></tr></thead>
<tbody>${input.sessions.map(
    (
      s,
    ) => html`<tr><td>${when(s.createdAt, '')}${s.id === input.currentSessionId ? html` <strong>(this one)</strong>` : ''}</td><td>${when(s.expiresAt, 'never')}</td>
<td>${s.id === input.currentSessionId ? '' : revokeForm(s, input.csrf, 'End')}</td></tr>`,
  )}</tbody></table>`;
}

export function newTokenBody(input: { token: string; record: TokenRecord; registryName: string; indexUrl: string }): RawHtml {
  const { record } = input;
  return html`<p>Your token <strong>${record.name}</strong> (scopes: ${record.scopes?.join(', ') ?? 'all'}; crates: ${record.cratePatterns?.join(', ') ?? 'all'}; expires: ${when(record.expiresAt, 'never')}).
It is shown only this once: only its hash is stored.</p>
<div class="install"><pre><code class="token" id="new-token">${input.token}</code></pre><button type="button" class="secondary" data-copy="${input.token}" hidden>Copy</button></div>
<h2>Use it with cargo</h2>
<p>In <code>~/.cargo/config.toml</code>:</p>
<pre><code>[registries.${input.registryName}]
index = "sparse+${input.indexUrl}"
credential-provider = "cargo:token"</code></pre>
<p>Then store the token (cargo reads it from standard input):</p>
<pre><code>cargo login --registry ${input.registryName}</code></pre>
<p>In CI, set it in the environment instead: <code>CARGO_REGISTRIES_${input.registryName.toUpperCase().replace(/-/g, '_')}_TOKEN</code>.</p>
<p><a href="/tokens">Back to my tokens</a></p>`;
}
