// Sign-in through an OpenID Connect provider (GitLab, Keycloak, Dex, ...): the authorization code
// flow with PKCE, state and nonce. openid-client validates the ID token (issuer, audience, expiry,
// nonce, and with non-repudiation checks on, its signature against the provider's JWKS); then the
// userinfo endpoint is read, because that is where GitLab puts the `groups` claim.
// `discover` runs before the server listens: a provider that does not answer, or has no userinfo
// endpoint, stops the start with a message that says which.

import * as client from 'openid-client';
import { ConfigError } from '../config/load.js';
import type { OidcConfig } from '../config/oidc-schema.js';
import { forbidden, RegistryError } from '../domain/errors.js';

export interface OidcIdentity {
  issuer: string;
  subject: string;
  /** The ID token's claims overlaid with userinfo's. */
  claims: Record<string, unknown>;
}

export interface OidcFlowState {
  state: string;
  nonce: string;
  codeVerifier: string;
}

const DISCOVERY_TIMEOUT_SECONDS = 10;

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const own = error instanceof Error ? error.message : String(error);
  return cause?.code ?? cause?.message ? `${own}: ${cause.code ?? cause.message}` : own;
}

export class OidcLogin {
  private constructor(
    private readonly settings: OidcConfig,
    private readonly configuration: client.Configuration,
  ) {}

  static async discover(settings: OidcConfig): Promise<OidcLogin> {
    const insecure = new URL(settings.issuer_url).protocol === 'http:';
    let configuration: client.Configuration;
    try {
      configuration = await client.discovery(new URL(settings.issuer_url), settings.client_id, settings.client_secret, undefined, {
        execute: insecure ? [client.allowInsecureRequests] : [],
        timeout: DISCOVERY_TIMEOUT_SECONDS,
      });
    } catch (error) {
      throw new ConfigError([
        `oidc.issuer_url: the OpenID provider ${settings.issuer_url} did not answer its discovery request ` +
          `(${settings.issuer_url.replace(/\/$/, '')}/.well-known/openid-configuration): ${describeCause(error)}`,
      ]);
    }
    const metadata = configuration.serverMetadata();
    if (!metadata.userinfo_endpoint) {
      throw new ConfigError([
        `oidc.issuer_url: the OpenID provider ${settings.issuer_url} has no userinfo_endpoint in its discovery document; ` +
          'cratekeeper reads the user and groups claims from it',
      ]);
    }
    client.enableNonRepudiationChecks(configuration);
    return new OidcLogin(settings, configuration);
  }

  get issuer(): string {
    return this.configuration.serverMetadata().issuer;
  }

  /** Where the provider sends the browser back: `<redirect_url or the public URL>/me/callback`. */
  callbackUrl(publicUrl: string): string {
    return `${(this.settings.redirect_url ?? publicUrl).replace(/\/+$/, '')}/me/callback`;
  }

  /** The provider URL to send the browser to, and what to remember until it comes back. */
  async begin(callbackUrl: string): Promise<{ url: string; flow: OidcFlowState }> {
    const flow = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    const scope = ['openid', 'profile', 'email', ...this.settings.additional_scopes].filter((s, i, all) => all.indexOf(s) === i).join(' ');
    const url = client.buildAuthorizationUrl(this.configuration, {
      redirect_uri: callbackUrl,
      scope,
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, flow };
  }

  /** Finishes the flow at the callback URL (with its query); throws `forbidden` with the reason. */
  async finish(callbackUrl: URL, flow: OidcFlowState): Promise<OidcIdentity> {
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(this.configuration, callbackUrl, {
        pkceCodeVerifier: flow.codeVerifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw refusal(error, 'the provider did not complete the sign-in');
    }
    const idClaims = tokens.claims()!;
    let userinfo: Record<string, unknown>;
    try {
      userinfo = await client.fetchUserInfo(this.configuration, tokens.access_token, idClaims.sub);
    } catch (error) {
      throw refusal(error, 'reading the userinfo endpoint failed');
    }
    return { issuer: this.issuer, subject: idClaims.sub, claims: { ...idClaims, ...userinfo } };
  }

  get groupsClaim(): string {
    return this.settings.groups_claim;
  }
}

function refusal(error: unknown, what: string): Error {
  if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) {
    return forbidden('oidc-refused', `${what}: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`);
  }
  if (error instanceof client.ClientError) return forbidden('oidc-invalid', `${what}: ${error.message}`);
  return new RegistryError('unavailable', 'oidc-unavailable', `${what}: ${describeCause(error)}`, { cause: error });
}
