// Terminal sign-in (RFC 8628, issue 17): a device asks for a code, a person approves it on the
// /device page after signing in, the device trades its device code for a short-lived access token
// (an ordinary `ckt_` token tied to a device session, so every existing check applies to it) and a
// refresh token (`ckr_`) that rotates on every use. Each refresh asks again whether the person may
// still use the registry: a disabled account is refused, and for a person from the OpenID provider
// the provider is asked (with the refresh token kept from the sign-in that approved the device) and
// its current groups decide. A refresh token used twice signs the device out. All state is in the
// database, so any replica answers any step; every step is audited.

import { createHash, randomBytes } from 'node:crypto';
import { RegistryError } from '../domain/errors.js';
import { oauthError, OAuthError } from '../domain/oauth-error.js';
import { TOKEN_SCOPES } from '../domain/token-scope.js';
import { generateToken, hashToken } from '../domain/token.js';
import { generateUserCode, normalizeUserCode } from '../domain/user-code.js';
import type { DeviceAuthorization, DeviceFlow, DeviceSession, NewAccessToken } from '../ports/device-flow.js';
import type { MetadataRepositories } from '../ports/metadata-database.js';
import type { User } from '../ports/users.js';
import type { AuditRecorder, AuditSource } from './audit-recorder.js';

export const DEVICE_CLIENT_ID = 'cratekeeper-cli';
export const REFRESH_TOKEN_PREFIX = 'ckr_';
/** The origin (TokenRecord.origin) of a device's access tokens. */
export const DEVICE_TOKEN_ORIGIN = 'device';
/** What a device gets when it names no scope: what a normal user token is used for. */
export const DEFAULT_DEVICE_SCOPES = ['read', 'publish-new', 'publish-update'];
const SLOW_DOWN_STEP_SECONDS = 5;
const MAX_DEVICE_NAME = 100;
const USER_CODE_TRIES = 5;

export interface DeviceFlowSettings {
  accessTokenLifetimeMs: number;
  refreshTokenLifetimeMs: number;
  codeLifetimeMs: number;
  pollIntervalMs: number;
}

/**
 * Asks the identity provider about a person again. Returns the provider refresh token to keep;
 * throws `forbidden` (saying why) when the provider or its groups no longer let them in.
 */
export type ProviderRecheck = (user: User, providerRefreshToken: string) => Promise<string>;

export interface DeviceTokens {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

export interface DeviceFlowDeps {
  repos: Pick<MetadataRepositories, 'deviceFlow' | 'users'>;
  audit: AuditRecorder;
  settings: DeviceFlowSettings;
  /** Seals and opens provider refresh tokens (auth/sealed-secrets.ts). */
  sealed: { seal(plain: string): Promise<string>; open(sealed: string): Promise<string | undefined> };
  /** Present when sign-in through an OpenID provider is configured. */
  providerRecheck?: ProviderRecheck;
  /** Applies this process's own revocations to its caches at once. */
  applyChanges: () => Promise<void>;
  now: () => number;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const iso = (ms: number) => new Date(ms).toISOString();

export function isRefreshToken(token: string): boolean {
  return token.startsWith(REFRESH_TOKEN_PREFIX) && /^ckr_[A-Za-z0-9_-]{43}$/.test(token);
}

function parseScopes(scope: string | undefined): string[] {
  if (scope === undefined || scope.trim() === '') return DEFAULT_DEVICE_SCOPES;
  const scopes = [...new Set(scope.trim().split(/\s+/))];
  const unknown = scopes.find((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined) {
    throw oauthError('invalid_scope', `unknown scope \`${unknown.slice(0, 40)}\`; the scopes are ${TOKEN_SCOPES.join(', ')}`);
  }
  return scopes;
}

export class DeviceFlowService {
  constructor(private readonly deps: DeviceFlowDeps) {}

  private get store(): DeviceFlow {
    return this.deps.repos.deviceFlow;
  }

  /** RFC 8628 section 3.1-3.2: a new device code and user code for the device at `source.ip`. */
  async requestAuthorization(
    form: { client_id?: string; scope?: string; device_name?: string },
    source: AuditSource,
    publicUrl: string,
  ): Promise<Record<string, string | number>> {
    assertClient(form.client_id);
    const scopes = parseScopes(form.scope);
    const deviceName = (form.device_name ?? '').trim();
    if (deviceName.length > MAX_DEVICE_NAME) {
      throw oauthError('invalid_request', `device_name has ${deviceName.length} characters; at most ${MAX_DEVICE_NAME} are allowed`);
    }
    const { settings } = this.deps;
    const now = this.deps.now();
    const deviceCode = randomBytes(32).toString('base64url');
    let authorization: DeviceAuthorization | undefined;
    for (let attempt = 0; authorization === undefined; attempt++) {
      try {
        authorization = await this.store.createAuthorization({
          deviceCodeHash: sha256(deviceCode),
          userCode: generateUserCode(),
          clientAddress: source.ip ?? 'unknown',
          deviceName: deviceName === '' ? 'unnamed device' : deviceName,
          scopes,
          createdAt: iso(now),
          expiresAt: iso(now + settings.codeLifetimeMs),
          intervalSeconds: Math.ceil(settings.pollIntervalMs / 1000),
        });
      } catch (error) {
        // A user code already in use (20^8 codes: rare); anything else is not ours to retry.
        if (attempt + 1 >= USER_CODE_TRIES) throw error;
      }
    }
    this.deps.audit.record('device-authorization', source, {
      detail: `code ${authorization.userCode.slice(0, 4)}-…, device "${authorization.deviceName}", scopes ${scopes.join(',')}`,
    });
    const verification = `${publicUrl}/device`;
    const shown = `${authorization.userCode.slice(0, 4)}-${authorization.userCode.slice(4)}`;
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verification,
      verification_uri_complete: `${verification}?user_code=${shown}`,
      expires_in: Math.round(settings.codeLifetimeMs / 1000),
      interval: authorization.intervalSeconds,
    };
  }

  /** The pending authorization a typed code names, or a message for the page saying what is wrong. */
  async pendingAuthorization(typed: string): Promise<{ authorization: DeviceAuthorization } | { problem: string }> {
    const code = normalizeUserCode(typed);
    const authorization = code === undefined ? undefined : await this.store.findAuthorizationByUserCode(code);
    if (!authorization) return { problem: 'No device is waiting for this code. Check it against your terminal and type it again.' };
    if (Date.parse(authorization.expiresAt) <= this.deps.now()) {
      return { problem: 'This code has expired. Start again in your terminal (`cratekeeper login`) for a new one.' };
    }
    if (authorization.status !== 'pending' || authorization.consumedAt !== null) {
      return { problem: `This code was already ${authorization.status === 'denied' ? 'refused' : 'approved'}.` };
    }
    return { authorization };
  }

  /**
   * Approves or denies the device waiting for `typed`, as `user`. An approval takes the provider
   * grant of the sign-in behind the browser session (`takeProviderGrant`), if there is one.
   */
  async decide(
    typed: string,
    user: User,
    decision: 'approve' | 'deny',
    source: AuditSource,
    takeProviderGrant: () => Promise<string | undefined>,
  ): Promise<{ problem?: string; authorization?: DeviceAuthorization }> {
    const found = await this.pendingAuthorization(typed);
    if ('problem' in found) return found;
    const { authorization } = found;
    const grant = decision === 'approve' ? ((await takeProviderGrant()) ?? null) : null;
    const decided = await this.store.decideAuthorization(authorization.id, {
      status: decision === 'approve' ? 'approved' : 'denied',
      userId: user.id,
      providerRefreshToken: grant,
    });
    if (!decided) return { problem: 'This code was decided meanwhile (in another tab?).' };
    this.deps.audit.record(decision === 'approve' ? 'device-approve' : 'device-deny', source, {
      detail: `device "${authorization.deviceName}" at ${authorization.clientAddress}, scopes ${authorization.scopes.join(',')}`,
    });
    return { authorization };
  }

  /** RFC 8628 section 3.4-3.5: the device polls with its device code. */
  async exchangeDeviceCode(form: { client_id?: string; device_code?: string }, source: AuditSource): Promise<DeviceTokens> {
    assertClient(form.client_id);
    const deviceCode = form.device_code ?? '';
    if (deviceCode === '' || deviceCode.length > 200) throw oauthError('invalid_request', 'device_code is missing or too long');
    const authorization = await this.store.findAuthorizationByDeviceCodeHash(sha256(deviceCode));
    if (!authorization) {
      this.deps.audit.record('device-code-unknown', source, { detail: 'unknown device code' });
      throw oauthError('invalid_grant', 'this device code is unknown to the registry; start again with `cratekeeper login`');
    }
    if (authorization.consumedAt !== null) {
      this.deps.audit.record('device-code-unknown', source, { detail: `device code of ${authorization.userCode} used again` });
      throw oauthError('invalid_grant', 'this device code was used already; start again with `cratekeeper login`');
    }
    const now = this.deps.now();
    if (Date.parse(authorization.expiresAt) <= now) {
      throw oauthError('expired_token', 'the code expired before anyone approved it; start again with `cratekeeper login`');
    }
    if (authorization.status === 'denied') throw oauthError('access_denied', 'the sign-in was refused on the approval page');
    const last = authorization.lastPollAt === null ? undefined : Date.parse(authorization.lastPollAt);
    if (last !== undefined && now - last < authorization.intervalSeconds * 1000) {
      const interval = authorization.intervalSeconds + SLOW_DOWN_STEP_SECONDS;
      await this.store.recordPoll(authorization.id, iso(now), interval);
      throw oauthError('slow_down', `polling too fast; wait ${interval} s between requests`);
    }
    await this.store.recordPoll(authorization.id, iso(now), authorization.intervalSeconds);
    if (authorization.status === 'pending') throw oauthError('authorization_pending', 'waiting for the code to be approved');

    const user = await this.userById(authorization.userId!);
    if (!user) throw oauthError('invalid_grant', 'the account that approved this device no longer exists');
    if (await this.deps.repos.users.isDisabled(user.id)) throw oauthError('invalid_grant', `account ${user.login} is disabled`);
    const scopes = user.isAdmin ? authorization.scopes : authorization.scopes.filter((s) => s !== 'admin');
    const access = newAccess(authorization.deviceName, now + this.deps.settings.accessTokenLifetimeMs);
    const refresh = newRefreshToken();
    const session = await this.store.startSession(
      authorization.id,
      {
        userId: user.id,
        name: authorization.deviceName,
        clientAddress: authorization.clientAddress,
        scopes,
        createdAt: iso(now),
        expiresAt: iso(now + this.deps.settings.refreshTokenLifetimeMs),
      },
      access.record,
      hashToken(refresh),
    );
    if (!session) throw oauthError('invalid_grant', 'this device code was used already; start again with `cratekeeper login`');
    this.deps.audit.record(
      'device-token',
      { ...source, principal: null },
      {
        login: user.login,
        detail: `device session ${session.id} "${session.name}", scopes ${scopes.join(',')}`,
      },
    );
    return this.tokens(access.token, refresh, scopes);
  }

  /** RFC 6749 section 6: a new access token and refresh token, after the checks of the rules in force. */
  async refresh(form: { client_id?: string; refresh_token?: string }, source: AuditSource): Promise<DeviceTokens> {
    assertClient(form.client_id);
    const token = form.refresh_token ?? '';
    if (!isRefreshToken(token)) throw oauthError('invalid_grant', 'this is not a cratekeeper refresh token; sign in again');
    const hash = hashToken(token);
    const state = await this.store.findRefreshToken(hash);
    if (!state) {
      this.deps.audit.record('device-refresh-refused', source, { detail: 'unknown refresh token' });
      throw oauthError('invalid_grant', 'this refresh token is unknown to the registry; sign in again');
    }
    const { session } = state;
    const user = await this.userById(session.userId);
    const login = user?.login;
    const now = this.deps.now();
    const refuse = async (reason: string, revoke: boolean): Promise<never> => {
      if (revoke) {
        await this.store.revokeSession(session.id, iso(now), reason);
        await this.deps.applyChanges();
      }
      this.deps.audit.record(
        'device-refresh-refused',
        { ...source, principal: null },
        {
          login,
          detail: `device session ${session.id}: ${reason}`,
        },
      );
      throw oauthError('invalid_grant', `${reason}; sign in again with \`cargo login --registry <name>\``);
    };
    if (state.usedAt !== null) return this.replayed(session, login, source, now);
    if (session.revokedAt !== null) {
      await refuse(
        `this device was signed out on ${session.revokedAt}${session.revokedReason ? ` (${session.revokedReason})` : ''}`,
        false,
      );
    }
    if (Date.parse(session.expiresAt) <= now) await refuse(`this device's sign-in expired on ${session.expiresAt}`, false);
    if (!user) return refuse('the account no longer exists', true);
    if (await this.deps.repos.users.isDisabled(user.id)) await refuse(`account ${user.login} is disabled`, false);

    let providerToken = session.providerRefreshToken;
    if (providerToken !== null && this.deps.providerRecheck) {
      const plain = await this.deps.sealed.open(providerToken);
      if (plain === undefined) await refuse('the identity provider grant of this device cannot be read', true);
      try {
        providerToken = await this.deps.sealed.seal(await this.deps.providerRecheck(user, plain!));
      } catch (error) {
        // The provider not answering is not a refusal: the device tries again later.
        if (error instanceof RegistryError && error.kind === 'forbidden') await refuse(error.message, true);
        if (error instanceof RegistryError && error.kind === 'unavailable') {
          throw oauthError('temporarily_unavailable', 'the identity provider is not answering; try again shortly', 503);
        }
        throw error;
      }
    }
    const access = newAccess(session.name, now + this.deps.settings.accessTokenLifetimeMs);
    const next = newRefreshToken();
    const outcome = await this.store.rotateRefreshToken(hash, hashToken(next), access.record, {
      at: iso(now),
      expiresAt: iso(now + this.deps.settings.refreshTokenLifetimeMs),
      providerRefreshToken: providerToken,
    });
    if (outcome === 'replayed') return this.replayed(session, login, source, now);
    await this.deps.applyChanges();
    this.deps.audit.record('device-refresh', { ...source, principal: null }, { login, detail: `device session ${session.id}` });
    return this.tokens(access.token, next, session.scopes);
  }

  /** A spent refresh token came back: someone holds a copy. The session ends for both. */
  private async replayed(session: DeviceSession, login: string | undefined, source: AuditSource, now: number): Promise<never> {
    await this.store.revokeSession(session.id, iso(now), 'a refresh token was used twice');
    await this.deps.applyChanges();
    this.deps.audit.record(
      'device-refresh-replayed',
      { ...source, principal: null },
      {
        login,
        detail: `device session ${session.id} "${session.name}" signed out`,
      },
    );
    throw oauthError(
      'invalid_grant',
      'this refresh token was used already, so the device was signed out in case it was copied; sign in again with `cargo login --registry <name>`',
    );
  }

  /** RFC 7009: revokes the session of a refresh or access token; unknown tokens are no error. */
  async revoke(form: { client_id?: string; token?: string }, source: AuditSource): Promise<void> {
    assertClient(form.client_id);
    const token = (form.token ?? '').trim();
    if (token === '' || token.length > 200) return;
    const hash = hashToken(token);
    const session = isRefreshToken(token)
      ? (await this.store.findRefreshToken(hash))?.session
      : await this.store.findSessionOfAccessToken(hash);
    if (!session) return;
    if (await this.store.revokeSession(session.id, iso(this.deps.now()), 'signed out from the device')) {
      await this.deps.applyChanges();
      const login = (await this.userById(session.userId))?.login;
      this.deps.audit.record('device-revoke', { ...source, principal: null }, { login, detail: `device session ${session.id} (logout)` });
    }
  }

  /** The user's device sessions still in force. */
  async devices(userId: number): Promise<DeviceSession[]> {
    const now = this.deps.now();
    return (await this.store.listSessions(userId)).filter((s) => Date.parse(s.expiresAt) > now);
  }

  /** Revokes one of `userId`'s devices; false when it is not theirs or not active. */
  async revokeDevice(userId: number, sessionId: number, reason: string): Promise<boolean> {
    const session = await this.store.findSession(sessionId);
    if (!session || session.userId !== userId) return false;
    const revoked = await this.store.revokeSession(sessionId, iso(this.deps.now()), reason);
    await this.deps.applyChanges();
    return revoked;
  }

  /** Signs every device of a user out (an administrator's action); returns how many. */
  async signOutAll(userId: number, reason: string): Promise<number> {
    const count = await this.store.revokeUserSessions(userId, iso(this.deps.now()), reason);
    await this.deps.applyChanges();
    return count;
  }

  private async userById(id: number): Promise<User | undefined> {
    return this.deps.repos.users.findUserById(id);
  }

  private tokens(access: string, refresh: string, scopes: string[]): DeviceTokens {
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: Math.round(this.deps.settings.accessTokenLifetimeMs / 1000),
      refresh_token: refresh,
      scope: scopes.join(' '),
    };
  }
}

function assertClient(clientId: string | undefined): void {
  if (clientId !== DEVICE_CLIENT_ID) {
    throw new OAuthError('invalid_client', `unknown client_id; the only client is \`${DEVICE_CLIENT_ID}\``, 401);
  }
}

function newAccess(deviceName: string, expiresAtMs: number): { token: string; record: NewAccessToken } {
  const token = generateToken();
  return { token, record: { hash: hashToken(token), name: `device: ${deviceName}`.slice(0, 100), expiresAt: iso(expiresAtMs) } };
}

function newRefreshToken(): string {
  return REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}
