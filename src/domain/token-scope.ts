// What a token may be used for, as crates.io names it. `read` covers the index, downloads, search
// and owner lists; cargo reads the index before every command, so every useful token has it.
// `admin` covers the administration API (the audit log), for administrators' tokens: a token made
// with a list of scopes has it only when the list names it.

import { invalid } from './errors.js';

export const TOKEN_SCOPES = ['read', 'publish-new', 'publish-update', 'yank', 'change-owners', 'admin'] as const;

export type TokenScope = (typeof TOKEN_SCOPES)[number];

export function parseTokenScopes(scopes: readonly string[]): TokenScope[] {
  const unknown = scopes.filter((s) => !(TOKEN_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw invalid('invalid-token-scope', `unknown token scope \`${unknown[0]}\`; the scopes are ${TOKEN_SCOPES.join(', ')}`);
  }
  if (scopes.length === 0) throw invalid('invalid-token-scope', `a token needs at least one scope of ${TOKEN_SCOPES.join(', ')}`);
  return [...new Set(scopes)] as TokenScope[];
}
