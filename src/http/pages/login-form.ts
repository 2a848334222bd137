// The local sign-in form (user name and password), with its CSRF token.

import { html, type RawHtml } from './html.js';

export function loginFormBody(input: { csrf: string; purpose: 'token' | 'replace'; oidcAvailable: boolean; problem?: string }): RawHtml {
  return html`${input.problem ? html`<p class="refusal" id="problem">${input.problem}</p>` : ''}
<p>${input.purpose === 'replace' ? 'Sign in to replace your cargo token (the old one stops working).' : 'Sign in to get your cargo token.'}</p>
<form method="post" action="/me/login">
<input type="hidden" name="csrf" value="${input.csrf}">
<label>User name <input name="login" autocomplete="username" required maxlength="64"></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
${input.oidcAvailable ? html`<p>Or <a href="/me">sign in with the identity provider</a>.</p>` : ''}`;
}
