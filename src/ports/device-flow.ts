// Storage of terminal sign-in (RFC 8628, services/device-flow.ts): device authorizations waiting
// for a person to approve them, the device sessions they start, their refresh tokens (stored by
// hash, rotated on every use, kept after use so that a replay is recognised), and the provider
// grants of browser sign-ins made to approve a device. Access tokens are ordinary tokens
// (tokens.ts) tied to a session; revoking a session revokes them through the change log.

export type DeviceAuthorizationStatus = 'pending' | 'approved' | 'denied';

export interface DeviceAuthorization {
  id: number;
  userCode: string;
  clientAddress: string;
  deviceName: string;
  scopes: string[];
  status: DeviceAuthorizationStatus;
  /** Who approved or denied it. */
  userId: number | null;
  /** The approver's provider refresh token, encrypted (auth/sealed-secrets.ts); null: none. */
  providerRefreshToken: string | null;
  createdAt: string;
  expiresAt: string;
  lastPollAt: string | null;
  intervalSeconds: number;
  /** When its device code was traded for tokens (it is then spent). */
  consumedAt: string | null;
}

export interface NewDeviceAuthorization {
  deviceCodeHash: string;
  userCode: string;
  clientAddress: string;
  deviceName: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string;
  intervalSeconds: number;
}

export interface DeviceSession {
  id: number;
  userId: number;
  name: string;
  clientAddress: string;
  scopes: string[];
  createdAt: string;
  lastRefreshAt: string | null;
  expiresAt: string;
  revokedAt: string | null;
  /** Why it was revoked, for the person whose refresh is refused. */
  revokedReason: string | null;
  providerRefreshToken: string | null;
}

/** An access token to insert with a session (hash only). */
export interface NewAccessToken {
  hash: string;
  name: string;
  expiresAt: string;
}

export interface RefreshTokenState {
  session: DeviceSession;
  usedAt: string | null;
}

export type RotationOutcome = 'rotated' | 'replayed';

export interface DeviceFlow {
  createAuthorization(authorization: NewDeviceAuthorization): Promise<DeviceAuthorization>;
  findAuthorizationByUserCode(userCode: string): Promise<DeviceAuthorization | undefined>;
  findAuthorizationByDeviceCodeHash(hash: string): Promise<DeviceAuthorization | undefined>;
  /** Approves or denies a pending authorization; false when it was decided already. */
  decideAuthorization(
    id: number,
    decision: { status: 'approved' | 'denied'; userId: number; providerRefreshToken: string | null },
  ): Promise<boolean>;
  recordPoll(id: number, at: string, intervalSeconds: number): Promise<void>;
  /**
   * Spends an approved authorization's device code and starts its session with a first access
   * token and refresh token, atomically; undefined when the code was spent already (a replay).
   */
  startSession(
    authorizationId: number,
    session: { userId: number; name: string; clientAddress: string; scopes: string[]; createdAt: string; expiresAt: string },
    access: NewAccessToken,
    refreshHash: string,
  ): Promise<DeviceSession | undefined>;
  findRefreshToken(hash: string): Promise<RefreshTokenState | undefined>;
  /** The session an access token of the device flow belongs to. */
  findSessionOfAccessToken(hash: string): Promise<DeviceSession | undefined>;
  /**
   * Spends refresh token `oldHash` for `newHash` and a new access token (the session's earlier ones
   * are revoked), extends the session; `replayed` when it was spent already (nothing changes then).
   */
  rotateRefreshToken(
    oldHash: string,
    newHash: string,
    access: NewAccessToken,
    update: { at: string; expiresAt: string; providerRefreshToken: string | null },
  ): Promise<RotationOutcome>;
  /** Revokes a session and its access tokens; false when it was revoked already. */
  revokeSession(id: number, at: string, reason: string): Promise<boolean>;
  /** Revokes every active session of a user; returns how many. */
  revokeUserSessions(userId: number, at: string, reason: string): Promise<number>;
  /** The user's sessions that are not revoked (expired ones included), oldest first. */
  listSessions(userId: number): Promise<DeviceSession[]>;
  findSession(id: number): Promise<DeviceSession | undefined>;
  /** Keeps a browser sign-in's provider refresh token (encrypted), keyed by its session token. */
  storeProviderGrant(sessionTokenId: number, userId: number, refreshToken: string, at: string): Promise<void>;
  /** Takes (and forgets) it: each grant goes to at most one device. */
  takeProviderGrant(sessionTokenId: number): Promise<string | undefined>;
  /** Whether a browser session holds a provider grant, without taking it (the /device page's check). */
  hasProviderGrant(sessionTokenId: number): Promise<boolean>;
}
