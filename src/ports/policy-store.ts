// The supply-chain policy's stored state (src/policy/): per-source settings edited at run time,
// administrators' holds and early releases, and when each upstream version was first seen (the
// quarantine's clock when an upstream gives no `pubtime`). Every write to settings or exceptions
// records a `policy` change in the same transaction, so every replica reloads them from the
// change feed within one poll interval.

/** `local` for crates published here, `upstream:<name>` for a mirrored upstream. */
export type PolicySourceKey = string;

export interface PolicySettingRow {
  source: PolicySourceKey;
  key: string;
  /** The value as JSON text (policy-settings.ts parses it). */
  value: string;
  updatedAt: string;
  updatedBy: string | null;
}

export interface PolicyException {
  id: number;
  /** `hold`: held back indefinitely; `release`: let out of quarantine early. */
  kind: 'hold' | 'release';
  /** Null: every source. */
  source: PolicySourceKey | null;
  /** Lower-case crate name. */
  crate: string;
  /** Null: every version (holds only). */
  version: string | null;
  reason: string;
  createdBy: string | null;
  createdAt: string;
  /** ISO time after which the exception no longer applies; null: never. */
  expiresAt: string | null;
}

export type NewPolicyException = Omit<PolicyException, 'id'>;

export interface FirstSighting {
  version: string;
  /** When cratekeeper first saw the version in the upstream's index file (ms since the epoch). */
  firstSeenAt: number;
  /** The `pubtime` the index line had at that first sight (ms), when it had one. */
  pubtimeAtFirstSight: number | undefined;
}

export interface PolicyStore {
  listSettings(): Promise<PolicySettingRow[]>;
  /** Sets (or replaces) one setting of one source. */
  setSetting(source: PolicySourceKey, key: string, value: string, by: string | null, at: string): Promise<void>;
  /** False when nothing was set. */
  unsetSetting(source: PolicySourceKey, key: string): Promise<boolean>;
  listExceptions(): Promise<PolicyException[]>;
  addException(exception: NewPolicyException): Promise<PolicyException>;
  /** Removes the exceptions of this kind for exactly this crate, version (null: the whole-crate one) and source; how many. */
  removeExceptions(kind: PolicyException['kind'], crate: string, version: string | null, source: PolicySourceKey | null): Promise<number>;
  /** The first sightings of a crate's versions from one source, by version. */
  firstSightings(source: PolicySourceKey, crate: string): Promise<Map<string, FirstSighting>>;
  /** Records first sightings; a version already recorded keeps its first one (later sightings never change it). */
  recordFirstSightings(source: PolicySourceKey, crate: string, sightings: readonly FirstSighting[]): Promise<void>;
  /**
   * Crates (lower-case, ascending, after `after` when given, at most `limit`) of one source with a
   * version whose release clock started at or after `since` (ms): its pubtime at first sight, else
   * its first sighting. The candidates of the quarantine for the admin page's held-back list.
   */
  cratesSeenSince(source: PolicySourceKey, since: number, after: string | undefined, limit: number): Promise<string[]>;
}
