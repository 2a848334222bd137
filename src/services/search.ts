// Search by name and description, in the shape `cargo search` reads.

import { invalid } from '../domain/errors.js';
import { containsNul } from '../domain/text.js';
import type { AccessPolicy } from '../auth/access-policy.js';
import type { CrateSearch } from '../ports/crate-search.js';
import type { TokenPrincipal } from '../ports/tokens.js';

export const MAX_PER_PAGE = 100;

export interface SearchResult {
  crates: { name: string; max_version: string; description: string | null }[];
  meta: { total: number };
}

function parsePositiveInt(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined || value === '') return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) {
    throw invalid('invalid-search-parameter', `\`${name}\` must be a whole number from 1 to ${max}`);
  }
  return Number(value);
}

export class SearchService {
  constructor(
    private readonly crates: CrateSearch,
    private readonly policy: AccessPolicy,
  ) {}

  /** Crates the principal may not read are left out, of the results and of the total. */
  async search(principal: TokenPrincipal | null, query: { q?: string; per_page?: string; page?: string }): Promise<SearchResult> {
    const perPage = parsePositiveInt(query.per_page, 'per_page', 10, MAX_PER_PAGE);
    const page = parsePositiveInt(query.page, 'page', 1, 1_000_000);
    const q = (query.q ?? '').trim().slice(0, 200);
    if (q.includes('\u0000')) throw invalid('invalid-search-parameter', containsNul('`q`'));
    const readable = this.policy.readableCrates(principal);
    const { total, hits } = await this.crates.searchCrates(q, perPage, (page - 1) * perPage, readable);
    return {
      crates: hits.map((h) => ({ name: h.name, max_version: h.maxVersion, description: h.description })),
      meta: { total },
    };
  }
}
