// The signed-in devices of terminal sign-in on "My tokens" (with Revoke), and the administrators'
// controls over an account on the users page: sign out all its devices, disable or enable it.

import type { DeviceSession } from '../../ports/device-flow.js';
import { html, type RawHtml } from './html.js';

const when = (iso: string | null, none: string) => (iso === null ? none : iso.replace('T', ' ').slice(0, 16) + ' UTC');

export function devicesBody(devices: DeviceSession[], csrf: string): RawHtml {
  const rows =
    devices.length === 0
      ? html`<p class="muted">No device is signed in. <code>cratekeeper login --registry &lt;name&gt;</code> signs one in.</p>`
      : html`<table id="devices"><thead><tr><th scope="col">Device</th><th scope="col">Address</th><th scope="col">First sign-in</th>
<th scope="col">Last refresh</th><th scope="col">Expires</th><th scope="col"><span class="skip">Action</span></th></tr></thead>
<tbody>${devices.map(
          (d) => html`<tr data-device-id="${d.id}"><td>${d.name}</td><td>${d.clientAddress}</td><td>${when(d.createdAt, '')}</td>
<td>${when(d.lastRefreshAt, 'never')}</td><td>${when(d.expiresAt, '')}</td>
<td><form method="post" action="/tokens/devices/${d.id}/revoke"><input type="hidden" name="csrf" value="${csrf}">
<button class="danger" type="submit" aria-label="Revoke ${d.name} (device ${d.id})">Revoke</button></form></td></tr>`,
        )}</tbody></table>`;
  return html`<h2>Signed-in devices</h2>
${rows}`;
}

export function accountControlsBody(csrf: string): RawHtml {
  return html`<h2 id="accounts-heading">Accounts</h2>
<form class="stack" method="post" action="/admin/users/signout-devices" id="signout-devices">
<input type="hidden" name="csrf" value="${csrf}">
<label for="signout-login">Sign out every device of <span class="hint">their terminal sign-ins end at once</span></label>
<input id="signout-login" name="login" required maxlength="64">
<p><button class="danger" type="submit">Sign out all devices</button></p>
</form>
<form class="stack" method="post" action="/admin/users/disable" id="disable-user">
<input type="hidden" name="csrf" value="${csrf}">
<label for="disable-login">Disable or enable the account of <span class="hint">a disabled account's tokens, sign-ins and device refreshes are refused</span></label>
<input id="disable-login" name="login" required maxlength="64">
<p><button class="danger" type="submit" name="state" value="disabled">Disable</button> <button class="secondary" type="submit" name="state" value="enabled">Enable</button></p>
</form>`;
}
