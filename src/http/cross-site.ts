// A second layer beside the CSRF token on every form post: browsers say where a request comes from.
// `Sec-Fetch-Site` (sent by every current browser, and not settable by a page) must be `same-origin`
// (or `none`: typed or bookmarked by the user); without it, an `Origin` header must be the registry's
// own origin, from its public URL. A post from another site, a sibling subdomain included, is
// refused even if it carries a valid CSRF token. A post with neither header (curl, older clients)
// relies on the CSRF token alone, as before.

import type { IncomingHttpHeaders } from 'node:http';
import { forbidden, type RegistryError } from '../domain/errors.js';

const TRUSTED_FETCH_SITES = new Set(['same-origin', 'none']);

const REFUSAL_TAIL = 'nothing was changed; use the forms on this registry\u2019s own pages';

/** The `forbidden` error for a post another site made, or undefined. */
export function crossSiteRefusal(headers: IncomingHttpHeaders, ownOrigin: string): RegistryError | undefined {
  const site = headers['sec-fetch-site'];
  if (typeof site === 'string') {
    if (TRUSTED_FETCH_SITES.has(site.toLowerCase())) return undefined;
    const from = site.toLowerCase() === 'same-site' ? 'another site on the same domain' : 'another site';
    return forbidden('cross-site-post', `this form was sent from ${from} (Sec-Fetch-Site: ${site.slice(0, 40)}); ${REFUSAL_TAIL}`);
  }
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== ownOrigin) {
    return forbidden(
      'cross-site-post',
      `this form was sent from another site (Origin: ${origin.slice(0, 200)}), not from ${ownOrigin}; ${REFUSAL_TAIL}`,
    );
  }
  return undefined;
}
