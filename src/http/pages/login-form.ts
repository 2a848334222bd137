// The sign-in page: the configured ways to sign in (the OpenID provider, local passwords or both),
// with the local form's CSRF token.

import type { LoginPurpose } from '../../auth/session-cookie.js';
import { html, type RawHtml } from './html.js';

const INTRO: Record<LoginPurpose, string> = {
  token: 'Sign in to get your cargo token.',
  replace: 'Sign in to replace your cargo token (the old one stops working).',
  web: 'Sign in to browse the crates of this registry and manage your tokens.',
};

export interface SignInChoices {
  purpose: LoginPurpose;
  /** The forms' CSRF token. */
  csrf: string;
  /** Whether local users have passwords (the password form is shown). */
  passwords: boolean;
  /** Where the provider button starts a sign-in; absent without OpenID Connect. */
  oidcStart?: string;
  problem?: string;
}

export function signInBody(input: SignInChoices): RawHtml {
  const problem = input.problem ? html`<p class="refusal" id="problem" role="alert">${input.problem}</p>` : '';
  const oidc = input.oidcStart ? html`<p><a id="oidc-sign-in" href="${input.oidcStart}">Sign in with your identity provider</a></p>` : '';
  const local = input.passwords
    ? html`${input.oidcStart ? html`<h2>Or with a local account</h2>` : ''}
<form class="stack" method="post" action="/me/login">
<input type="hidden" name="csrf" value="${input.csrf}">
<label for="login">User name</label><input id="login" name="login" autocomplete="username" required maxlength="64">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">Sign in</button></p>
</form>`
    : '';
  // With neither, a token is the only way in (a fresh registry's admin has just one).
  const token =
    input.purpose === 'web'
      ? html`<h2>${input.passwords || input.oidcStart ? 'Or with a token' : 'With a token'}</h2>
<form class="stack" method="post" action="/me/token-sign-in">
<input type="hidden" name="csrf" value="${input.csrf}">
<label for="sign-in-token">Token <span class="hint">one of yours with every scope and every crate, e.g. the first admin token</span></label>
<input id="sign-in-token" name="token" type="password" autocomplete="off" required maxlength="200">
<p><button type="submit">Sign in with the token</button></p>
</form>`
      : '';
  return html`${problem}<p>${INTRO[input.purpose]}</p>${oidc}${local}${token}`;
}
