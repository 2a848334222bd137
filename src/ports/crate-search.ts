// Search over crate names and descriptions, for `cargo search` and the web pages.

import type { StoredVersion } from './crates.js';

export interface SearchHit {
  name: string;
  description: string | null;
  versions: StoredVersion[];
}

export interface CrateSearch {
  /** Crates whose name or description contains `query`; with `visible`, only the names it accepts. */
  searchCrates(
    query: string,
    limit: number,
    offset: number,
    visible?: (name: string) => boolean,
  ): Promise<{ total: number; hits: SearchHit[] }>;
}
