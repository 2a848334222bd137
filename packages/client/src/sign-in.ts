// Signing a terminal in to a registry and out again, for `cratekeeper login` / `logout` and for
// cargo's `cargo login` / `cargo logout` reaching the credential provider. Sign-in runs the device
// flow and stores the session (replacing, and revoking, any previous one); sign-out revokes the
// device session at the server, then deletes it here even when the server cannot be reached (and
// says so, since the server then keeps it until it expires).

import { spawn } from 'node:child_process';
import { hostname, userInfo } from 'node:os';
import { runDeviceFlow, type DeviceFlowIo } from './device-flow.js';
import { discoverAuthorizationServer, OAuthError, OAuthUnavailableError, revokeToken, type AuthorizationServer } from './oauth-client.js';
import { withRefreshLock } from './refresh-lock.js';
import { sessionFromTokens, type SessionContext } from './session-credentials.js';

export class SignInError extends Error {
  readonly code = 'SIGN_IN';
}

export interface SignInOptions {
  scope?: string | undefined;
  deviceName?: string | undefined;
  /** The command that starts over, for messages. */
  retryHint: string;
}

/** `user@host`, as the approval page shows it; at most 100 characters. */
export function defaultDeviceName(): string {
  let user = 'someone';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return `${user}@${hostname()}`.slice(0, 100);
}

/** Opens a URL in the desktop's browser, without waiting for it or failing when there is none. */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  const command = platform === 'darwin' ? 'open' : platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // the URL was printed; opening it is a convenience
  }
}

/** The registry's authorization server; SignInError when it offers no terminal sign-in. */
export async function requireAuthorizationServer(key: string, context: SessionContext): Promise<AuthorizationServer> {
  const server = await discoverAuthorizationServer(key, context.fetch);
  if (server === undefined) {
    const origin = new URL(key).origin;
    throw new SignInError(
      `${origin} does not offer sign-in from the terminal (it has no /.well-known/oauth-authorization-server); ` +
        `create a token on ${origin}/me and give it to \`cargo login\` instead`,
    );
  }
  return server;
}

/** Runs the device flow for the registry at `key` and stores the new session. */
export async function signIn(key: string, context: SessionContext, io: DeviceFlowIo, options: SignInOptions): Promise<void> {
  const server = await requireAuthorizationServer(key, context);
  const tokens = await runDeviceFlow(server, io, {
    scope: options.scope,
    deviceName: options.deviceName ?? defaultDeviceName(),
    retryHint: options.retryHint,
    ...(context.fetch ? { fetch: context.fetch } : {}),
  });
  const previous = await withRefreshLock(
    context.lockPath,
    async () => {
      const old = await context.store.read(key);
      await context.store.write(key, sessionFromTokens(tokens, context.now()));
      return old;
    },
    context.lock,
  );
  if (previous !== undefined) {
    // The replaced session would otherwise stay valid on the server until it expires.
    await revokeToken(server, previous.refresh_token, context.fetch).catch(() => undefined);
  }
  io.tell(`Signed in to ${new URL(key).origin}; the session is kept in ${context.store.description}.`);
}

export interface SignOutResult {
  /** Whether there was a session here. */
  found: boolean;
  /** Why the server was not told, when it was not. */
  warning?: string;
}

/** Revokes the session at the server and deletes it here. */
export async function signOut(key: string, context: SessionContext): Promise<SignOutResult> {
  const session = await context.store.read(key);
  if (session === undefined) return { found: false };
  let warning: string | undefined;
  try {
    const server = await requireAuthorizationServer(key, context);
    await revokeToken(server, session.refresh_token, context.fetch);
  } catch (error) {
    if (!(error instanceof OAuthUnavailableError || error instanceof OAuthError || error instanceof SignInError)) throw error;
    warning =
      `could not sign this device out at the server (${error.message}); the session was deleted here, ` +
      `but stays valid on the server until it expires: revoke it on ${new URL(key).origin}/me ("My tokens")`;
  }
  await withRefreshLock(context.lockPath, () => context.store.delete(key), context.lock);
  return warning === undefined ? { found: true } : { found: true, warning };
}
