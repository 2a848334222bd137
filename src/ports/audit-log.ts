// The audit log: who did what, to which crate, with which token, from where. Index reads arrive
// aggregated (per token, crate and hour); everything else one event per action. Never a secret.

export const AUDIT_ACTIONS = [
  'index-read',
  'download',
  'publish',
  'yank',
  'unyank',
  'owner-add',
  'owner-remove',
  'login',
  'login-failed',
  'token-create',
  'token-revoke',
  'user-add',
  'group-member-add',
  'group-member-remove',
  'access-refused',
  'device-authorization',
  'device-approve',
  'device-deny',
  'device-code-unknown',
  'device-token',
  'device-refresh',
  'device-refresh-refused',
  'device-refresh-replayed',
  'device-revoke',
  'device-signout-all',
  'user-disable',
  'user-enable',
  'policy-refused',
  'policy-change',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEvent {
  at: string; // ISO 8601; for aggregated index reads, the start of the hour
  action: AuditAction;
  userLogin: string | null;
  tokenId: number | null;
  crate: string | null;
  version: string | null;
  clientIp: string | null;
  userAgent: string | null;
  detail: string | null;
  count: number;
}

export interface AuditQuery {
  crate?: string;
  user?: string;
  action?: AuditAction;
  since?: string;
  until?: string;
  limit: number;
  offset: number;
}

export interface AuditLog {
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Newest first. */
  query(query: AuditQuery): Promise<{ total: number; events: (AuditEvent & { id: number })[] }>;
  /** Removes events older than `before`; returns how many. */
  prune(before: string): Promise<number>;
}
