// The query of the sign-in pages: what the sign-in is for (`purpose`) and where to return after it
// (`next`, a path on this site). Neither is ever refused: an unknown purpose is a cargo token, and
// a `next` that is not a path here becomes `/`, so no link can send a visitor elsewhere.

import { z } from 'zod';
import type { LoginPurpose } from '../../auth/session-cookie.js';
import { requestSchema } from '../zod-type-provider.js';

/**
 * The longest `next` kept. It travels in the sign-in flow's cookie, and browsers drop a cookie over
 * 4 KiB: a longer one would break the sign-in instead of only losing the way back.
 */
const MAX_NEXT_LENGTH = 2048;

/** A path on this site to return to after signing in; anything else becomes `/`. */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > MAX_NEXT_LENGTH || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\'))
    return '/';
  return /[\u0000-\u001f\\]/.test(next) ? '/' : next;
}

const purpose = z
  .unknown()
  .optional()
  .transform((value): LoginPurpose => (value === 'replace' || value === 'web' ? value : 'token'));

export const signInQuery = requestSchema('login-flow-missing', z.object({ next: z.unknown().optional().transform(safeNext), purpose }));
