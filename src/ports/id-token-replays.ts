// The ID tokens a CI provider sent for trusted publishing, remembered until they expire, so that
// one cannot be used twice (auth/trusted-publishing.ts).

export interface IdTokenReplays {
  /** Remembers an ID token's `jti` until it expires; false when it was seen before (a replay). */
  recordIdTokenUse(issuer: string, jti: string, expiresAt: string): Promise<boolean>;
}
