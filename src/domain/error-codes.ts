// Every `code` a RegistryError can carry, in one list. Codes are part of the API (clients and tests
// match on them), so they are a closed union: a misspelt code fails to compile instead of silently
// never matching. A code that crosses a thread boundary as a string is checked with `isErrorCode`.
// test/unit/error-codes.test.ts fails when a code here is no longer used in src.

export const ERROR_CODES = [
  // crate files, publish bodies and the JSON inside them
  'crate-manifest-too-large',
  'crate-metadata-mismatch',
  'crate-too-large',
  'crate-too-many-files',
  'invalid-crate-file',
  'invalid-publish-body',
  'invalid-publish-metadata',
  'json-too-deep',
  'json-too-many-keys',
  'json-too-many-values',
  'publish-metadata-too-large',

  // publishing, owners and crate names
  'crate-check-timeout',
  'crate-name-taken',
  'crate-not-found',
  'dependency-not-found',
  'dependency-registry-not-allowed',
  'licence-expression-invalid',
  'licence-refused',
  'invalid-crate-name',
  'invalid-owners-body',
  'crate-hidden',
  'invalid-version',
  'last-owner',
  'not-an-owner',
  'publish-not-allowed',
  'reserved-crate-name',
  'version-exists',
  'version-not-found',

  // pages, search, audit and README rendering
  'invalid-audit-query',
  'invalid-search-parameter',
  'no-such-page',
  'readme-render-timeout',
  'readme-too-deep',

  // upstream mirror
  'crate-name-unverifiable',
  'crate-name-upstream',
  'invalid-lockfile',
  'not-cached',
  'upstream-checksum-mismatch',
  'upstream-config-invalid',
  'upstream-config-missing',
  'upstream-download-failed',
  'upstream-error',
  'upstream-unavailable',
  'upstream-unreachable',

  // RustSec advisories (advisories sync)
  'advisory-sync-failed',
  'invalid-advisory',
  'invalid-cvss',
  'invalid-version-requirement',

  // users, groups, passwords and web sign-in
  'account-disabled',
  'admin-only',
  'cross-site-post',
  'csrf',
  'identity-exists',
  'invalid-group',
  'invalid-login',
  'invalid-user-code',
  'login-flow-missing',
  'login-names-exhausted',
  'password-too-long',
  'password-too-short',
  'sign-in-required',
  'user-exists',
  'user-not-found',
  'wrong-password',

  // OpenID Connect sign-in
  'oidc-invalid',
  'oidc-misconfigured',
  'oidc-no-refresh-token',
  'oidc-not-authorized',
  'oidc-not-configured',
  'oidc-refused',
  'oidc-unavailable',
  'provider-grant-missing',

  // API tokens
  'invalid-crate-pattern',
  'invalid-expiry',
  'invalid-token-name',
  'invalid-token-request',
  'invalid-token-scope',
  'token-crate-pattern',
  'token-name-ambiguous',
  'token-lifetime-capped',
  'token-not-found',
  'token-rejected',
  'token-required',
  'token-scope-missing',
  'token-sign-in',
  'token-too-narrow',

  // trusted publishing (OIDC id tokens from CI)
  'id-token-audience',
  'id-token-claims',
  'id-token-expired',
  'id-token-invalid',
  'id-token-issuer',
  'id-token-malformed',
  'id-token-missing',
  'id-token-no-rule',
  'id-token-replayed',
  'id-token-signature',
  'issuer-unavailable',

  // webhooks
  'invalid-webhook',
  'webhook-exists',
  'webhook-not-found',
  'webhook-delivery-not-found',
  'webhook-redelivery-refused',
  // rustdoc archives and hosting (docs/rustdoc.md)
  'invalid-docs-archive',
  'docs-archive-too-large',
  'docs-not-found',
  // supply-chain policy (src/policy/)
  'policy-refused',
  'invalid-policy-setting',
  'invalid-policy-exception',
  'policy-exception-not-found',
  'invalid-policy-check',
  'invalid-held-back-query',

  // any request's text
  'text-with-nul',

  // load, limits and dependencies of ours
  'database-unavailable',
  'rate-limited',
  'server-busy',
  'storage-unavailable',
  'task-failed',
  'task-out-of-memory',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/** True when `code` (say, one received from a worker thread as plain data) is one of ours. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code);
}
