// Secrets that every process on one database must share (the keys that sign session cookies and
// CSRF tokens), made once by whichever process asks first.

export interface ServerSecrets {
  /** A secret shared by every process on this database, made by `create` on first use. */
  getOrCreateSecret(name: string, create: () => string): Promise<string>;
}
