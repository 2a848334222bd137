// Trusted publishing: a CI job trades the OIDC ID token its platform issued it (GitLab CI
// `id_tokens`, GitHub Actions) for a short-lived cratekeeper token, so that no long-lived secret
// sits in CI settings. The ID token is verified against the issuer's keys (JWKS found through its
// discovery document): signature, issuer, expiry, then a configured rule's audience and claims
// (e.g. project_path and ref). Each ID token (`jti`) can be traded once. The token returned can
// read and publish (new crates and new versions) only the rule's crates, acts as the rule's user,
// expires after the rule's minutes, and records which rule and jti it came from.

import * as jose from 'jose';
import type { TrustedPublishingRuleConfig } from '../config/oidc-schema.js';
import { forbidden, RegistryError, unauthenticated } from '../domain/errors.js';
import type { IdTokenReplays } from '../ports/id-token-replays.js';
import type { TokenIssuer } from './token-issuer.js';

export const TRUSTED_PUBLISHING_SCOPES = ['read', 'publish-new', 'publish-update'];
const CLOCK_TOLERANCE_SECONDS = 30;

export interface TrustedPublishingToken {
  token: string;
  expiresAt: string;
  user: string;
  crates: string[];
  rule: number;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

export class TrustedPublishing {
  private readonly keySets = new Map<string, Promise<jose.JWTVerifyGetKey>>();

  constructor(
    private readonly rules: readonly TrustedPublishingRuleConfig[],
    private readonly idTokens: IdTokenReplays,
    private readonly accounts: TokenIssuer,
    private readonly now: () => number = Date.now,
  ) {}

  private keys(issuer: string): Promise<jose.JWTVerifyGetKey> {
    let keys = this.keySets.get(issuer);
    if (!keys) {
      keys = (async () => {
        const url = `${trimSlash(issuer)}/.well-known/openid-configuration`;
        let jwksUri: unknown;
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
          if (!response.ok) throw new Error(`status ${response.status}`);
          jwksUri = ((await response.json()) as { jwks_uri?: unknown }).jwks_uri;
        } catch (error) {
          throw new RegistryError(
            'unavailable',
            'issuer-unavailable',
            `the issuer's discovery document ${url} could not be read: ${(error as Error).message}`,
          );
        }
        if (typeof jwksUri !== 'string')
          throw new RegistryError('unavailable', 'issuer-unavailable', `the issuer's discovery document ${url} has no jwks_uri`);
        return jose.createRemoteJWKSet(new URL(jwksUri));
      })();
      this.keySets.set(issuer, keys);
      keys.catch(() => this.keySets.delete(issuer)); // try again on the next request
    }
    return keys;
  }

  /** Verifies the ID token, finds its rule and returns a new publish token; throws with the reason. */
  async exchange(idToken: string): Promise<TrustedPublishingToken> {
    let unverified: jose.JWTPayload;
    try {
      unverified = jose.decodeJwt(idToken);
    } catch {
      throw unauthenticated('id-token-malformed', 'the ID token is not a JWT');
    }
    const issuer = typeof unverified.iss === 'string' ? unverified.iss : '';
    const candidates = this.rules
      .map((rule, index) => ({ rule, index }))
      .filter(({ rule }) => trimSlash(rule.issuer_url) === trimSlash(issuer));
    if (candidates.length === 0) throw unauthenticated('id-token-issuer', `ID tokens from issuer \`${issuer}\` are not trusted here`);

    let payload: jose.JWTPayload;
    try {
      ({ payload } = await jose.jwtVerify(idToken, await this.keys(candidates[0]!.rule.issuer_url), {
        issuer,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.now()),
        requiredClaims: ['exp', 'iat', 'jti'],
      }));
    } catch (error) {
      throw this.verificationFailure(error, unverified);
    }

    const audiences = typeof payload.aud === 'string' ? [payload.aud] : (payload.aud ?? []);
    const forAudience = candidates.filter(({ rule }) => audiences.includes(rule.audience));
    if (forAudience.length === 0) {
      const expected = [...new Set(candidates.map(({ rule }) => rule.audience))].map((a) => `\`${a}\``).join(' or ');
      throw unauthenticated(
        'id-token-audience',
        `the ID token's audience (${audiences.map((a) => `\`${a}\``).join(', ') || 'none'}) is not ${expected}`,
      );
    }
    const match = forAudience.find(({ rule }) => Object.entries(rule.claims).every(([name, value]) => payload[name] === value));
    if (!match) {
      const names = [...new Set(forAudience.flatMap(({ rule }) => Object.keys(rule.claims)))];
      const shown = names.map((n) => `${n}=${JSON.stringify(payload[n] ?? null)}`).join(', ');
      throw forbidden('id-token-no-rule', `no trusted publishing rule matches this ID token (${shown})`);
    }

    const expiresAtSeconds = payload.exp!;
    if (!(await this.idTokens.recordIdTokenUse(issuer, String(payload.jti), new Date(expiresAtSeconds * 1000).toISOString()))) {
      throw unauthenticated(
        'id-token-replayed',
        `this ID token (jti \`${payload.jti}\`) was already used; each ID token can be exchanged once`,
      );
    }

    const { rule, index } = match;
    const expiresAt = new Date(this.now() + rule.token_minutes * 60_000);
    const { token } = await this.accounts.createToken(rule.user, `trusted publishing (rule ${index + 1})`, {
      scopes: TRUSTED_PUBLISHING_SCOPES,
      cratePatterns: rule.crates,
      expiresAt,
      origin: `trusted-publishing rule=${index + 1} iss=${issuer} sub=${String(payload.sub ?? '')} jti=${String(payload.jti)}`,
    });
    return { token, expiresAt: expiresAt.toISOString(), user: rule.user, crates: rule.crates, rule: index + 1 };
  }

  private verificationFailure(error: unknown, unverified: jose.JWTPayload): Error {
    if (error instanceof RegistryError) return error;
    if (error instanceof jose.errors.JWTExpired) {
      const at = typeof unverified.exp === 'number' ? new Date(unverified.exp * 1000).toISOString() : 'an unknown time';
      return unauthenticated('id-token-expired', `the ID token expired at ${at}`);
    }
    if (error instanceof jose.errors.JWSSignatureVerificationFailed || error instanceof jose.errors.JWKSNoMatchingKey) {
      return unauthenticated('id-token-signature', "the ID token's signature does not verify with the issuer's published keys");
    }
    if (error instanceof jose.errors.JWTClaimValidationFailed) {
      return unauthenticated('id-token-claims', `the ID token is not valid: ${error.message} (claim \`${error.claim}\`)`);
    }
    if (error instanceof jose.errors.JOSEError) return unauthenticated('id-token-invalid', `the ID token is not valid: ${error.message}`);
    return error as Error;
  }
}
