// The /device page: the code a terminal shows is typed (or arrives in the link), then the page
// says which device asks, from which address, when and for which scopes, with Approve and Deny.

import type { DeviceAuthorization } from '../../ports/device-flow.js';
import { displayUserCode } from '../../domain/user-code.js';
import { html, type RawHtml } from './html.js';

const when = (iso: string) => iso.replace('T', ' ').slice(0, 19) + ' UTC';

export function codeEntryBody(input: { problem?: string; typed?: string }): RawHtml {
  return html`${input.problem ? html`<p class="refusal" id="problem">${input.problem}</p>` : ''}
<p>Type the code your terminal shows (from <code>cratekeeper login</code> or <code>cargo login</code>).</p>
<form class="stack" method="get" action="/device">
<label for="user-code">Code</label>
<input id="user-code" name="user_code" value="${input.typed ?? ''}" required maxlength="20" autocomplete="off" placeholder="XXXX-XXXX">
<p><button type="submit">Continue</button></p>
</form>`;
}

export function approvalBody(input: { authorization: DeviceAuthorization; login: string; csrf: string }): RawHtml {
  const a = input.authorization;
  const code = displayUserCode(a.userCode);
  const form = (action: string, label: string, cls: string) =>
    html`<form class="inline" method="post" action="/device/${action}"><input type="hidden" name="csrf" value="${input.csrf}">
<input type="hidden" name="user_code" value="${code}"><button class="${cls}" type="submit" id="${action}">${label}</button></form>`;
  return html`<p>A device asks to use this registry as <strong>${input.login}</strong>. Approve only if you started it yourself
and the code matches your terminal: <strong id="code">${code}</strong>.</p>
<table id="device"><tbody>
<tr><th scope="row">Device</th><td id="device-name">${a.deviceName}</td></tr>
<tr><th scope="row">From address</th><td id="device-address">${a.clientAddress}</td></tr>
<tr><th scope="row">Asked at</th><td>${when(a.createdAt)}</td></tr>
<tr><th scope="row">Scopes</th><td id="device-scopes">${a.scopes.join(', ')}</td></tr>
</tbody></table>
<p>${form('approve', 'Approve', '')} ${form('deny', 'Deny', 'danger')}</p>`;
}

export function decidedBody(decision: 'approve' | 'deny', deviceName: string): RawHtml {
  return decision === 'approve'
    ? html`<p class="notice" role="status" id="notice">Approved: <strong>${deviceName}</strong> is signed in. You can close this page and go back to your terminal.</p>`
    : html`<p class="notice" role="status" id="notice">Refused: <strong>${deviceName}</strong> was not signed in.</p>`;
}

/** An approval refused because the browser session holds no provider grant for the device. */
export function providerSignInBody(signInUrl: string): RawHtml {
  return html`<p class="refusal" id="problem">To approve a device, sign in through the identity provider again first: the
registry keeps that sign-in's grant for the device, so that each renewal of its sign-in asks the provider whether you
may still use the registry.</p>
<p><a id="provider-sign-in" href="${signInUrl}">Sign in through the identity provider</a></p>`;
}
