// The log of changes that lets every process (and every replica) drop cached data that a write
// made stale: a crate's index file, a token, a user's groups. Writers record a change in the
// transaction of the write itself; services/change-feed.ts follows the log.

export interface Change {
  seq: number;
  kind: 'crate' | 'token' | 'user' | 'policy';
  /**
   * crate: lower-case name; token: token hash; user: user id (its groups or flags changed);
   * policy: `settings` or `exceptions` (src/policy/policy-state.ts reloads them).
   */
  subject: string;
}

export interface ChangeLog {
  /** Changes after `seq`, oldest first (a bounded page). A change is never seen after a later one. */
  changesSince(seq: number): Promise<Change[]>;
  latestChangeSeq(): Promise<number>;
}
