// Search over crate names and descriptions, for `cargo search` and the web pages.

import type { CratePattern } from '../domain/crate-pattern.js';

export interface SearchHit {
  name: string;
  description: string | null;
  /** The version it is shown at (domain/max-version.ts), as stored with the crate. */
  maxVersion: string;
}

/**
 * The crates one reader may see, in a form a database can apply while it searches (so that a
 * hidden crate is neither listed nor counted, without reading every match first): the first rule
 * whose patterns match a crate's name decides; a crate that no rule matches is readable.
 */
export interface ReadableCrates {
  rules: { patterns: readonly CratePattern[]; readable: boolean }[];
}

export interface CrateSearch {
  /**
   * Crates whose name or description contains `query` (queries shorter than three characters: whose
   * name contains it; the empty query: every crate), ordered as crates.io orders them: the exact
   * name first, then by relevance (name prefix, name, description), then by downloads, then by name.
   * With `readable`, only the crates it lets the reader see, in the results and in the total.
   */
  searchCrates(query: string, limit: number, offset: number, readable?: ReadableCrates): Promise<{ total: number; hits: SearchHit[] }>;
}
