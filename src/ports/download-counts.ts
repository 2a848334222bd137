// Download counts per crate version and UTC day: what the crate pages show (per version totals
// and a chart over time). Written in batches by services/download-counter.ts, never per request.

/** Downloads of one version on one UTC day. `crate` is the lower-case crate name. */
export interface VersionDayCount {
  crate: string;
  version: string;
  /** 'YYYY-MM-DD', UTC. */
  day: string;
  count: number;
}

export interface DownloadCounts {
  /**
   * Adds `counts` to the stored ones (a row that does not exist yet starts at 0); several
   * entries for the same crate, version and day add up. All or nothing: when it rejects, no
   * count was added, so the caller may retry the same batch without counting twice.
   */
  add(counts: readonly VersionDayCount[]): Promise<void>;
  /** Downloads of every version of the crate per day, from `sinceDay` on; days without any are left out. Oldest first. */
  daily(lowerName: string, sinceDay: string): Promise<{ day: string; count: number }[]>;
  /** All-time downloads per version of the crate; versions never downloaded are left out. Newest version first. */
  perVersion(lowerName: string): Promise<{ version: string; count: number }[]>;
}
