// The terminal half of the device authorization grant (RFC 8628): ask for a code, tell the person
// where to approve it, then poll the token endpoint at the server's interval until the approval
// page answers. `slow_down` adds 5 seconds to the interval for the rest of the wait (section 3.5);
// `expired_token` and `access_denied` end the wait with a plain message. Everything is said on the
// given output (stderr: stdout belongs to cargo's protocol when cargo runs us).

import {
  exchangeDeviceCode,
  OAuthError,
  requestDeviceAuthorization,
  type AuthorizationServer,
  type DeviceAuthorization,
  type Fetch,
  type TokenResponse,
} from './oauth-client.js';

export class DeviceFlowError extends Error {
  readonly code = 'DEVICE_FLOW';
  constructor(
    readonly reason: 'expired' | 'denied' | 'refused',
    message: string,
  ) {
    super(message);
  }
}

export interface DeviceFlowIo {
  /** Writes one line for the person at the terminal. */
  tell(line: string): void;
  /** Waits this many seconds. */
  sleep(seconds: number): Promise<void>;
  /** Unix seconds. */
  now(): number;
  /** Opens the approval page in a browser (only with --open). */
  open?: ((url: string) => void) | undefined;
}

export interface DeviceFlowRequest {
  scope?: string | undefined;
  deviceName?: string | undefined;
  /** The command that starts over, for the messages that end the wait. */
  retryHint: string;
  fetch?: Fetch;
}

/** RFC 8628 section 3.2: without an interval the client waits 5 seconds between polls. */
const DEFAULT_INTERVAL = 5;
const SLOW_DOWN_STEP = 5;
/** Polls continue this long past the code's lifetime before the client gives up on its own. */
const EXPIRY_GRACE = 30;

function describe(error: OAuthError): string {
  return error.description ?? error.error;
}

/** Polls the token endpoint for an approved code; returns the tokens or throws DeviceFlowError. */
export async function pollForTokens(
  server: AuthorizationServer,
  authorization: DeviceAuthorization,
  io: DeviceFlowIo,
  request: DeviceFlowRequest,
): Promise<TokenResponse> {
  let interval = authorization.interval ?? DEFAULT_INTERVAL;
  const giveUpAt = io.now() + authorization.expires_in + EXPIRY_GRACE;
  // For these two the RFC's name says it all, and only the client knows the command that was run,
  // so the messages are the client's own; other refusals show the server's description.
  const expired = () =>
    new DeviceFlowError(
      'expired',
      `the code ${authorization.user_code} expired before it was approved; run \`${request.retryHint}\` again`,
    );
  for (;;) {
    await io.sleep(interval);
    try {
      return await exchangeDeviceCode(server, authorization.device_code, request.fetch);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      switch (error.error) {
        case 'authorization_pending':
          break;
        case 'slow_down':
          interval += SLOW_DOWN_STEP;
          break;
        case 'expired_token':
          throw expired();
        case 'access_denied':
          throw new DeviceFlowError('denied', `the sign-in was refused on the approval page; run \`${request.retryHint}\` to try again`);
        default:
          throw new DeviceFlowError('refused', `the registry refused the sign-in: ${describe(error)}`);
      }
    }
    if (io.now() >= giveUpAt) throw expired();
  }
}

/** Runs the whole flow: code, instructions, wait. */
export async function runDeviceFlow(server: AuthorizationServer, io: DeviceFlowIo, request: DeviceFlowRequest): Promise<TokenResponse> {
  const authorization = await requestDeviceAuthorization(server, request, request.fetch);
  const minutes = Math.max(1, Math.round(authorization.expires_in / 60));
  io.tell(`To sign in, open ${authorization.verification_uri} and enter the code ${authorization.user_code}`);
  if (authorization.verification_uri_complete) io.tell(`(or open ${authorization.verification_uri_complete})`);
  io.tell(`Waiting for approval; the code is valid for ${minutes} minute${minutes === 1 ? '' : 's'}...`);
  if (io.open) io.open(authorization.verification_uri_complete ?? authorization.verification_uri);
  return pollForTokens(server, authorization, io, request);
}
