// A stand-in for a registry's OAuth endpoints, for the client's unit tests: it answers exactly as
// the protocol between the two halves says (discovery, device authorization, token, revocation),
// with the token endpoint's answers chosen by each test. The end-to-end tests use the real server.

import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  form: Record<string, string>;
}

export interface OAuthAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface OAuthTestServer {
  url: string;
  indexUrl: string;
  seen: SeenRequest[];
  /** Chooses the token endpoint's answer; the default approves every device code. */
  onToken: (form: Record<string, string>, seen: SeenRequest[]) => OAuthAnswer | Promise<OAuthAnswer>;
  deviceAuthorization: Record<string, unknown>;
  close(): Promise<void>;
}

export const oauthError = (error: string, description?: string): OAuthAnswer => ({
  status: 400,
  body: description === undefined ? { error } : { error, error_description: description },
});

export const issued = (access: string, refresh: string, expiresIn = 28_800): OAuthAnswer => ({
  status: 200,
  body: { access_token: access, token_type: 'Bearer', expires_in: expiresIn, refresh_token: refresh, scope: 'read publish' },
});

async function formOf(request: IncomingMessage): Promise<Record<string, string>> {
  let text = '';
  for await (const chunk of request) text += (chunk as Buffer).toString();
  return Object.fromEntries(new URLSearchParams(text));
}

export async function startOAuthTestServer(): Promise<OAuthTestServer> {
  const state: OAuthTestServer = {
    url: '',
    indexUrl: '',
    seen: [],
    onToken: () => issued('ckt_issued', 'ckr_issued'),
    deviceAuthorization: {},
    close: async () => undefined,
  };
  const server = createServer((request, response) => {
    void (async () => {
      const path = request.url!;
      const form = request.method === 'POST' ? await formOf(request) : {};
      state.seen.push({ method: request.method!, path, form });
      const json = (status: number, body: unknown) =>
        response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
      if (path === '/.well-known/oauth-authorization-server') {
        json(200, {
          issuer: state.url,
          device_authorization_endpoint: `${state.url}/oauth/device_authorization`,
          token_endpoint: `${state.url}/oauth/token`,
          revocation_endpoint: `${state.url}/oauth/revoke`,
          grant_types_supported: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
          scopes_supported: ['read', 'publish'],
        });
      } else if (path === '/oauth/device_authorization' && request.method === 'POST') {
        json(200, {
          device_code: 'dc-1',
          user_code: 'WDJB-MJHT',
          verification_uri: `${state.url}/device`,
          verification_uri_complete: `${state.url}/device?user_code=WDJB-MJHT`,
          expires_in: 600,
          interval: 0,
          ...state.deviceAuthorization,
        });
      } else if (path === '/oauth/token' && request.method === 'POST') {
        const answer = await state.onToken(form, state.seen);
        json(answer.status, answer.body);
      } else if (path === '/oauth/revoke' && request.method === 'POST') {
        response.writeHead(200).end();
      } else {
        json(404, { errors: [{ detail: 'not found' }] });
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.indexUrl = `${state.url}/index/`;
  state.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return state;
}

/** The token-endpoint requests seen, in order. */
export const tokenRequests = (server: OAuthTestServer) => server.seen.filter((r) => r.path === '/oauth/token').map((r) => r.form);
