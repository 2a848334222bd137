// The code a person types on the approval page (RFC 8628 section 6.1): 8 letters from an alphabet
// without vowels (no words) and without look-alikes, shown as XXXX-XXXX; typed in any case, with
// or without the dash or spaces. 20^8 codes, and a code lives minutes, behind a rate limit.

import { randomInt } from 'node:crypto';

const ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

export function generateUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

/** The stored form (8 upper-case letters) of what a person typed, or undefined when it cannot be a code. */
export function normalizeUserCode(typed: string): string | undefined {
  if (typed.length > 40) return undefined;
  const code = typed.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== LENGTH) return undefined;
  for (const ch of code) if (!ALPHABET.includes(ch)) return undefined;
  return code;
}

export const displayUserCode = (code: string) => `${code.slice(0, 4)}-${code.slice(4)}`;
