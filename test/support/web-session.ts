// Signs in to the web pages of an in-process registry the way a browser does (the token sign-in
// form), and returns what later requests need: the session cookie and the forms' CSRF token.

import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import type { TestRegistry } from './in-process.js';

export interface PageSession {
  cookie: string;
  csrf: string;
  get(url: string): Promise<LightMyRequestResponse>;
  /** Posts a form with the session's CSRF token (unless `fields.csrf` says otherwise). */
  post(url: string, fields?: Record<string, string | string[]>): Promise<LightMyRequestResponse>;
}

export function cookieFrom(response: LightMyRequestResponse, name: string): string | undefined {
  const header = response.headers['set-cookie'];
  const all = Array.isArray(header) ? header : header === undefined ? [] : [header];
  const found = all.map((c) => c.split(';')[0]!).find((c) => c.startsWith(`${name}=`));
  return found && found !== `${name}=` ? found : undefined;
}

export function formBody(fields: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) params.append(key, v);
  return params.toString();
}

export function hiddenCsrf(html: string): string {
  const match = /name="csrf" value="([^"]+)"/.exec(html);
  assert.ok(match, 'the page has a form with a CSRF token');
  return match[1]!;
}

export async function signInWithToken(r: TestRegistry, token: string): Promise<PageSession> {
  const form = await r.request({ method: 'GET', url: '/sign-in' });
  assert.equal(form.statusCode, 200);
  const loginCookie = cookieFrom(form, 'ck_login');
  assert.ok(loginCookie, 'the sign-in page sets its flow cookie');
  const done = await r.request({
    method: 'POST',
    url: '/me/token-sign-in',
    headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: formBody({ csrf: hiddenCsrf(form.body), token }),
  });
  assert.equal(done.statusCode, 303, done.body);
  const cookie = cookieFrom(done, 'ck_session');
  assert.ok(cookie, 'signing in sets the session cookie');
  const home = await r.request({ method: 'GET', url: '/', headers: { cookie } });
  const csrf = hiddenCsrf(home.body);
  return {
    cookie,
    csrf,
    get: (url) => r.request({ method: 'GET', url, headers: { cookie } }),
    post: (url, fields = {}) =>
      r.request({
        method: 'POST',
        url,
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: formBody({ csrf, ...fields }),
      }),
  };
}
