// Errors of the OAuth endpoints (/oauth/device_authorization, /oauth/token, /oauth/revoke). They are
// answered as RFC 6749 section 5.2 and RFC 8628 section 3.5 say, `{ error, error_description }`,
// not in cargo's shape: the client (`cratekeeper login`, the credential provider) is an OAuth
// client. `error_description` is written for the person at the terminal: the client shows it as is.

export type OAuthErrorName =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'invalid_scope'
  | 'unsupported_grant_type'
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied'
  | 'expired_token'
  | 'temporarily_unavailable'
  | 'server_error';

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorName,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
    this.name = 'OAuthError';
  }
}

export const oauthError = (error: OAuthErrorName, description: string, status?: number) => new OAuthError(error, description, status);
