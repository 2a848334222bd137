// One line for each error the client toolkit expects (bad files, bad arguments, failing token
// commands), so that commands and the credential provider report them the same way. Anything else is
// a bug and keeps its stack.

import { AuthConfigError } from './auth-config.js';
import { AuthPatternError } from './auth-pattern.js';
import { ClientArgsError } from './client-settings.js';
import { CargoConfigError } from './doctor/cargo-config-files.js';
import { HostKeyError } from './host-key.js';
import { ListenAddressError } from './listen-address.js';
import { ProxyCaError } from './proxy-ca-error.js';
import { UpstreamProxyError } from './upstream-connector.js';
import { NetrcSyntaxError } from './netrc-lexer.js';
import { NetrcPermissionError } from './netrc-file.js';
import { TokenCommandError } from './token-command.js';
import { DeviceFlowError } from './device-flow.js';
import { DocsUploadError } from './docs-upload-command.js';
import { OAuthError, OAuthUnavailableError } from './oauth-client.js';
import { RefreshLockError } from './refresh-lock.js';
import { RegistryLookupError } from './registry-lookup.js';
import { SessionRefreshError, SessionRefusedError } from './session-credentials.js';
import { SessionStoreError } from './session-store.js';
import { SignInError } from './sign-in.js';

/** Whether the error is one of ours with a message meant for the user. */
export function isClientError(error: unknown): error is Error {
  return (
    error instanceof AuthConfigError ||
    error instanceof AuthPatternError ||
    error instanceof ClientArgsError ||
    error instanceof CargoConfigError ||
    error instanceof HostKeyError ||
    error instanceof NetrcSyntaxError ||
    error instanceof NetrcPermissionError ||
    error instanceof TokenCommandError ||
    error instanceof ListenAddressError ||
    error instanceof ProxyCaError ||
    error instanceof UpstreamProxyError ||
    error instanceof DeviceFlowError ||
    error instanceof DocsUploadError ||
    error instanceof OAuthError ||
    error instanceof OAuthUnavailableError ||
    error instanceof RefreshLockError ||
    error instanceof RegistryLookupError ||
    error instanceof SessionRefreshError ||
    error instanceof SessionRefusedError ||
    error instanceof SessionStoreError ||
    error instanceof SignInError ||
    (error instanceof Error && 'code' in error && error.code === 'CREDENTIAL_PROTOCOL')
  );
}

export function describeClientError(error: unknown): string {
  if (isClientError(error)) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
