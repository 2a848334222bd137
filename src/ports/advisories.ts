// The RustSec advisories a registry knows, per source they were synced for: `local` for crates
// published here, `upstream:<name>` for a mirrored upstream. An advisory applies only to crates of
// its source, so crates.io's advisories never touch a private crate that shares a name.

import type { Advisory } from '../domain/advisory-file.js';

/** `local`, or `upstream:<name>`: the policy's source keys (`sourceKeyOf` in src/policy/policy-settings.ts). */
export type AdvisorySourceKey = string;

export interface AdvisorySync {
  id: number;
  source: AdvisorySourceKey;
  /** The folder, archive or URL it came from. */
  origin: string;
  syncedAt: string;
  imported: number;
  skipped: number;
  withdrawn: number;
}

export interface NewAdvisorySync {
  source: AdvisorySourceKey;
  origin: string;
  syncedAt: string;
  skipped: number;
}

export interface Advisories {
  /**
   * Replaces every advisory of `sync.source` with `advisories`, records the sync and a `policy`
   * change (subject `advisories`) in one transaction: on any failure the previous advisories stay in force.
   */
  replaceAll(advisories: readonly Advisory[], sync: NewAdvisorySync): Promise<AdvisorySync>;
  /** The advisories of one crate (any case) from one source, withdrawn ones included, newest first. */
  forCrate(source: AdvisorySourceKey, crate: string): Promise<Advisory[]>;
  /** The id of the newest sync of any source (0: none): changes after every sync, on every replica. */
  latestSyncId(): Promise<number>;
  /**
   * Crates (lower-case, ascending, after `after` when given, at most `limit`) with an advisory of
   * this source that is not withdrawn: the candidates of the advisory rule for the held-back list.
   */
  cratesWithAdvisories(source: AdvisorySourceKey, after: string | undefined, limit: number): Promise<string[]>;
  lastSync(source: AdvisorySourceKey): Promise<AdvisorySync | undefined>;
}
