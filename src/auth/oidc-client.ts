// Sign-in through an OpenID Connect provider (GitLab, Keycloak, Dex, ...): the authorization code
// flow with PKCE, state and nonce. openid-client validates the ID token (issuer, audience, expiry,
// nonce, and with non-repudiation checks on, its signature against the provider's JWKS); then the
// userinfo endpoint is read, because that is where GitLab puts the `groups` claim.
// `discover` runs before the server listens. A provider that answers with something unusable (no
// userinfo endpoint, another issuer) stops the start with a message that says which. A provider
// that does not answer, or cannot be reached, does not: cargo and tokens work without it, so the
// registry starts, and each sign-in tries the discovery again (answering 503 until it succeeds).
// Every request to the provider has a deadline (`oidc.timeout_ms`); one that fails to get an answer
// is a 503 that names the identity provider, never a refusal of the user and never a hang.

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

/** What a refresh at the provider says: the person's current claims, and the refresh token to keep. */
export interface OidcRefresh {
  identity: OidcIdentity;
  refreshToken: string;
}

/** Tells the operator that the provider was not reachable (the registry goes on without it). */
export type OnUnreachable = (error: unknown, message: string) => void;

const RETRY_AFTER_SECONDS = 5;

function describeCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const own = error instanceof Error ? error.message : String(error);
  return (cause?.code ?? cause?.message) ? `${own}: ${cause.code ?? cause.message}` : own;
}

/** No answer in time, no connection, or the provider's own "not now" (a 5xx). */
function isUnreachable(error: unknown): boolean {
  if (error instanceof TypeError) return true; // fetch failed: refused, reset, unknown host...
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  if (error instanceof client.ClientError && (error.code === 'OAUTH_TIMEOUT' || error.code === 'OAUTH_ABORT')) return true;
  // An unexpected status (the cause is the Response) or an OAuth error body from a 5xx.
  const status = (error as { status?: unknown }).status ?? (error as { cause?: { status?: unknown } }).cause?.status;
  return typeof status === 'number' && status >= 500;
}

function providerUnavailable(cause: unknown): RegistryError {
  return new RegistryError('unavailable', 'oidc-unavailable', 'the identity provider is not answering; try again shortly', {
    cause,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
}

export class OidcLogin {
  private configuration: client.Configuration | undefined;
  private discovering: Promise<client.Configuration> | undefined;

  private constructor(private readonly settings: OidcConfig) {}

  static async discover(settings: OidcConfig, onUnreachable: OnUnreachable = () => {}): Promise<OidcLogin> {
    const login = new OidcLogin(settings);
    try {
      await login.ready();
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      onUnreachable(
        error.cause,
        `the OpenID provider ${settings.issuer_url} did not answer its discovery request (${discoveryUrl(settings)}): ` +
          `${describeCause(error.cause)}; starting without it: sign-ins answer 503 until it answers`,
      );
    }
    return login;
  }

  get issuer(): string {
    return this.configuration?.serverMetadata().issuer ?? this.settings.issuer_url;
  }

  /** Where the provider sends the browser back: `<redirect_url or the public URL>/me/callback`. */
  callbackUrl(publicUrl: string): string {
    return `${(this.settings.redirect_url ?? publicUrl).replace(/\/+$/, '')}/me/callback`;
  }

  /** The provider URL to send the browser to, and what to remember until it comes back. */
  async begin(callbackUrl: string, options: { offlineAccess?: boolean } = {}): Promise<{ url: string; flow: OidcFlowState }> {
    const configuration = await this.readyForSignIn();
    const flow = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
    // A sign-in that approves a device asks for a refresh token (when the provider offers them), so
    // that each refresh of the device can ask the provider again (services/device-flow.ts).
    const offline = options.offlineAccess === true && this.offersOfflineAccess();
    const scope = ['openid', 'profile', 'email', ...this.settings.additional_scopes, ...(offline ? ['offline_access'] : [])]
      .filter((s, i, all) => all.indexOf(s) === i)
      .join(' ');
    const url = client.buildAuthorizationUrl(configuration, {
      ...(offline ? { prompt: 'consent' } : {}),
      redirect_uri: callbackUrl,
      scope,
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(flow.codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, flow };
  }

  /** Whether the provider's discovery document lists `offline_access` (refresh tokens for sign-ins). */
  offersOfflineAccess(): boolean {
    return this.configuration?.serverMetadata().scopes_supported?.includes('offline_access') ?? false;
  }

  /** The same, once the provider is discovered (throws `unavailable` while it does not answer). */
  async offersOfflineAccessNow(): Promise<boolean> {
    await this.readyForSignIn();
    return this.offersOfflineAccess();
  }

  /**
   * Asks the provider about the person again with a refresh token: their current claims (userinfo)
   * and the refresh token to keep (the provider may rotate it). Throws `forbidden` with the
   * provider's reason when it refuses (the person was removed, the grant revoked), `unavailable`
   * when it does not answer.
   */
  async refresh(refreshToken: string): Promise<OidcRefresh> {
    const configuration = await this.readyForSignIn();
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(configuration, refreshToken);
    } catch (error) {
      throw refusal(error, 'the identity provider refused to renew the sign-in');
    }
    const subject = tokens.claims()?.sub;
    let userinfo: Record<string, unknown>;
    try {
      userinfo = await client.fetchUserInfo(configuration, tokens.access_token, subject ?? client.skipSubjectCheck);
    } catch (error) {
      throw refusal(error, 'reading the userinfo endpoint failed');
    }
    const sub = subject ?? (typeof userinfo.sub === 'string' ? userinfo.sub : '');
    return {
      identity: { issuer: this.issuer, subject: sub, claims: { ...(tokens.claims() ?? {}), ...userinfo } },
      refreshToken: tokens.refresh_token ?? refreshToken,
    };
  }

  /** Finishes the flow at the callback URL (with its query); throws `forbidden` with the reason. */
  async finish(callbackUrl: URL, flow: OidcFlowState): Promise<OidcIdentity & { refreshToken?: string }> {
    const configuration = await this.readyForSignIn();
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
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
      userinfo = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
    } catch (error) {
      throw refusal(error, 'reading the userinfo endpoint failed');
    }
    return {
      issuer: this.issuer,
      subject: idClaims.sub,
      claims: { ...idClaims, ...userinfo },
      ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    };
  }

  get groupsClaim(): string {
    return this.settings.groups_claim;
  }

  /** The discovered configuration; discovers it now (once for concurrent callers) if the start could not. */
  private ready(): Promise<client.Configuration> {
    if (this.configuration) return Promise.resolve(this.configuration);
    this.discovering ??= this.runDiscovery().finally(() => {
      this.discovering = undefined;
    });
    return this.discovering;
  }

  /** As ready(), for a sign-in: a provider that became unusable since the start is a 503 too (the log says why). */
  private async readyForSignIn(): Promise<client.Configuration> {
    try {
      return await this.ready();
    } catch (error) {
      if (error instanceof ConfigError) {
        throw new RegistryError(
          'unavailable',
          'oidc-misconfigured',
          "the identity provider's discovery document is unusable; the server log says why",
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }

  private async runDiscovery(): Promise<client.Configuration> {
    const { settings } = this;
    const insecure = new URL(settings.issuer_url).protocol === 'http:';
    let configuration: client.Configuration;
    try {
      configuration = await client.discovery(new URL(settings.issuer_url), settings.client_id, settings.client_secret, undefined, {
        execute: insecure ? [client.allowInsecureRequests] : [],
        // In seconds; it stays with the configuration, for the token, userinfo and key requests.
        timeout: settings.timeout_ms / 1000,
      });
    } catch (error) {
      if (isUnreachable(error)) throw providerUnavailable(error);
      throw new ConfigError([
        `oidc.issuer_url: the OpenID provider ${settings.issuer_url} did not answer its discovery request ` +
          `(${discoveryUrl(settings)}) usably: ${describeCause(error)}`,
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
    this.configuration = configuration;
    return configuration;
  }
}

function discoveryUrl(settings: OidcConfig): string {
  return `${settings.issuer_url.replace(/\/$/, '')}/.well-known/openid-configuration`;
}

function refusal(error: unknown, what: string): Error {
  if (isUnreachable(error)) return providerUnavailable(error);
  if (error instanceof client.AuthorizationResponseError || error instanceof client.ResponseBodyError) {
    return forbidden('oidc-refused', `${what}: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`);
  }
  if (error instanceof client.ClientError) return forbidden('oidc-invalid', `${what}: ${error.message}`);
  return providerUnavailable(error);
}
