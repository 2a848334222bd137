// Requests of `/api/v1/me/tokens` and of the "My tokens" page: a new token's name, scopes, crate
// patterns and expiry, and the id of a token to revoke. The checks run in the order the messages
// were written for: name, expiry, scopes, crates.

import { z } from 'zod';
import { requestSchema } from '../zod-type-provider.js';
import { jsonInBuffer } from './json-in-buffer.js';

const NOT_JSON = 'the body must be JSON: {"name": "...", "scopes": [...], "crates": [...], "expires_at": "..."}';
const NAME = '`name` is required and must be a string';
const EXPIRY = '`expires_at` must be an ISO 8601 date';

/** Absent or null: none; otherwise a list of strings. */
const stringList = (field: string) => {
  const message = `\`${field}\` must be a list of strings`;
  return z
    .array(z.string({ error: message }), { error: message })
    .nullish()
    .transform((list) => list ?? undefined);
};

/** Absent or null: never expires; otherwise a date as `new Date` reads it. */
const expiry = z
  .unknown()
  .optional()
  .transform((value, ctx): Date | null => {
    if (value === undefined || value === null) return null;
    const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
    if (!Number.isNaN(date.getTime())) return date;
    ctx.addIssue({ code: 'custom', message: EXPIRY });
    return z.NEVER;
  })
  .meta({ description: 'an ISO 8601 date; absent or null: never expires' });

export const createTokenBody = requestSchema(
  'invalid-token-request',
  jsonInBuffer(
    NOT_JSON,
    z
      .object(
        { name: z.string({ error: NAME }), expires_at: expiry, scopes: stringList('scopes'), crates: stringList('crates') },
        { error: NAME },
      )
      .transform(({ name, expires_at, scopes, crates }) => ({ name, scopes, crates, expiresAt: expires_at })),
  ),
);

const TOKEN_ID = 'a token id is a number';

/** The API's token id: digits. */
export const tokenIdParams = requestSchema('invalid-token-request', z.object({ id: z.string().regex(/^\d+$/, { error: TOKEN_ID }) }));

/** The page's token id: digits, at most 15 of them. */
export const pageTokenIdParams = requestSchema(
  'invalid-token-request',
  z.object({ id: z.string().regex(/^\d{1,15}$/, { error: TOKEN_ID }) }),
);
