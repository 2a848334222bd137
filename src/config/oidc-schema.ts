// Configuration of identity: `[oidc]` (sign-in through an OpenID Connect provider), `[login]`
// (the /me pages and their rate limits) and `[[trusted_publishing]]` (CI jobs that trade their
// platform's ID token for a short-lived publish token). Part of the one schema in schema.ts.

import { z } from 'zod';
import { cratePatterns, httpUrl, integer, list, text } from './fields.js';

const baseUrl = httpUrl();

export const oidcSchema = z
  .strictObject({
    /** The provider's issuer; its discovery document is at `<issuer_url>/.well-known/openid-configuration`. */
    issuer_url: baseUrl,
    client_id: text(),
    /** Also from the environment: CRATEKEEPER_OIDC__CLIENT_SECRET. */
    client_secret: text(),
    /**
     * The registry's public base URL as people's browsers reach it; the provider sends them back to
     * `<redirect_url>/me/callback` (register that URL at the provider). Default: server.public_url,
     * else the address the server listens on.
     */
    redirect_url: baseUrl.optional(),
    additional_scopes: list().default([]),
    /** The claim (in userinfo, else in the ID token) that lists the user's groups. GitLab: `groups`. */
    groups_claim: text().default('groups'),
    authorized_groups: list().default([]),
    /** Matched against the provider's `sub`, and (entries with an `@`) an e-mail it verified; never against names users choose. */
    authorized_users: list().default([]),
    /** Longest wait for each request to the provider (discovery, token, userinfo, keys). */
    timeout_ms: integer(100, 600_000).default(5_000),
  })
  .optional();

export const loginSchema = z
  .strictObject({
    /** The name the /me page uses in the cargo commands it shows. */
    registry_name: text()
      .refine((name) => /^[A-Za-z0-9_-]+$/.test(name), { error: 'expected letters, digits, `-` or `_`' })
      .default('private'),
    /** Failed password attempts from one client address (all user names), and OIDC sign-in starts. */
    attempts_per_minute_per_address: integer(1, 1_000_000).default(20),
    /** Failed password attempts for one user name from one client address. */
    attempts_per_minute_per_login: integer(1, 1_000_000).default(5),
    /** Failed password attempts for one user name from all addresses together. */
    attempts_per_minute_per_login_total: integer(1, 1_000_000).default(20),
  })
  .prefault({});

const trustedPublishingRule = z.strictObject({
  issuer_url: baseUrl,
  audience: text(),
  /** Claims the ID token must carry with exactly these values, e.g. { project_path = "group/app", ref = "main" }. */
  claims: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]), { error: 'expected a table of claim = value' }),
  crates: cratePatterns().pipe(z.array(z.string()).min(1, { error: 'a rule needs at least one crate pattern' })),
  /** The user the token acts as; it must own the crates or be allowed by the access rules. */
  user: text(),
  token_minutes: integer(1, 24 * 60).default(30),
});

export const trustedPublishingSchema = z
  .array(trustedPublishingRule)
  .default([])
  .superRefine((rules, ctx) => {
    for (const [i, rule] of rules.entries()) {
      if (Object.keys(rule.claims).length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: [i, 'claims'],
          message: 'name at least one claim, or any CI job of that issuer could publish',
        });
      }
    }
  });

export type OidcConfig = NonNullable<z.output<typeof oidcSchema>>;
export type LoginConfig = z.output<typeof loginSchema>;
export type TrustedPublishingRuleConfig = z.output<typeof trustedPublishingRule>;
