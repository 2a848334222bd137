// A crate's `license` field judged against an allow-list and a deny-list of SPDX licences. The
// expression is parsed by spdx-expression-parse (never by hand) and each licence term matched by
// spdx-satisfies (which knows `+`, `-or-later` and `-only`). An expression passes when one of its
// alternatives (its OR-branches, with AND distributed: `(A OR B) AND C` is `A AND C` or `B AND C`)
// has every licence allowed and none denied: deny wins over allow. A term with an exception
// (`Apache-2.0 WITH LLVM-exception`) is allowed by its own form or by its base licence (an SPDX
// exception only adds permissions), and denied by either. Cargo's legacy `MIT/Apache-2.0` means OR.

import parseSpdx, { type SpdxExpression, type SpdxLicence } from 'spdx-expression-parse';
import satisfies from 'spdx-satisfies';
import { invalid } from './errors.js';

/** The lists of one source's licence rule; an empty allow-list allows every licence not denied. */
export interface LicenceLists {
  allow: readonly string[];
  deny: readonly string[];
}

export type LicenceJudgement = { allowed: true } | { allowed: false; reason: string };

const OPERATOR = /\b(AND|OR|WITH)\b|[()]/i;

/**
 * The SPDX form of a `license` field: cargo's legacy `/` separator becomes OR. Mixing `/` with
 * SPDX operators is ambiguous (which binds tighter?), so it is refused rather than guessed.
 */
export function normalizeLicenceText(text: string): string {
  const trimmed = text.trim();
  if (!trimmed.includes('/')) return trimmed;
  if (OPERATOR.test(trimmed)) {
    throw invalid(
      'licence-expression-invalid',
      `licence \`${trimmed}\` mixes cargo's legacy \`/\` separator with SPDX operators; write it with OR, AND and parentheses only`,
    );
  }
  return trimmed
    .split('/')
    .map((part) => part.trim())
    .join(' OR ');
}

/** Parses a `license` field (legacy `/` included); throws `licence-expression-invalid` with a message for the publisher. */
export function parseLicenceExpression(text: string): SpdxExpression {
  const normalized = normalizeLicenceText(text);
  try {
    return parseSpdx(normalized);
  } catch {
    throw invalid(
      'licence-expression-invalid',
      `licence \`${text.trim()}\` is not a valid SPDX expression (identifiers such as \`MIT\` or \`Apache-2.0\` from https://spdx.org/licenses/, ` +
        'joined by OR, AND, WITH and parentheses; identifiers are case-sensitive)',
    );
  }
}

/** One entry of an allow- or deny-list: a single licence, maybe with `+` or `WITH`, but no AND or OR. */
export function parseLicenceListEntry(entry: string): string {
  let parsed: SpdxExpression;
  try {
    parsed = parseSpdx(entry.trim());
  } catch {
    throw new Error(`\`${entry}\` is not an SPDX licence identifier (see https://spdx.org/licenses/)`);
  }
  if ('conjunction' in parsed) throw new Error(`\`${entry}\` is an expression; list single licences (each may have + or WITH)`);
  return entry.trim();
}

function termText(term: SpdxLicence): string {
  return `${term.license}${term.plus ? '+' : ''}${term.exception ? ` WITH ${term.exception}` : ''}`;
}

/** The alternatives of an expression: each a list of licences that must all be accepted. */
function alternatives(expression: SpdxExpression): SpdxLicence[][] {
  if (!('conjunction' in expression)) return [[expression]];
  const left = alternatives(expression.left);
  const right = alternatives(expression.right);
  if (expression.conjunction === 'or') return [...left, ...right];
  return left.flatMap((l) => right.map((r) => [...l, ...r]));
}

function covered(term: SpdxLicence, list: readonly string[]): boolean {
  if (list.length === 0) return false;
  const forms = term.exception
    ? [termText(term), termText({ license: term.license, ...(term.plus ? { plus: true } : {}) })]
    : [termText(term)];
  return forms.some((form) => satisfies(form, [...list]));
}

/** Why one licence term is refused, or undefined when it is accepted. */
function termRefusal(term: SpdxLicence, lists: LicenceLists): string | undefined {
  if (covered(term, lists.deny)) return `\`${termText(term)}\` is denied`;
  if (lists.allow.length > 0 && !covered(term, lists.allow)) return `\`${termText(term)}\` is not allowed`;
  return undefined;
}

/** Judges a parsed expression against the lists (see the header for the rules). */
export function judgeLicenceExpression(expression: SpdxExpression, lists: LicenceLists): LicenceJudgement {
  const refusals = new Set<string>();
  for (const alternative of alternatives(expression)) {
    const refused = alternative.map((term) => termRefusal(term, lists)).filter((r): r is string => r !== undefined);
    if (refused.length === 0) return { allowed: true };
    for (const r of refused) refusals.add(r);
  }
  return { allowed: false, reason: [...refusals].join(', ') };
}
