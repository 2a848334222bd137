// The body of `cargo owner --add/--remove`: {"users": ["login", ...]}, at least one login.

import { z } from 'zod';
import { requestSchema } from '../zod-type-provider.js';
import { jsonInBuffer } from './json-in-buffer.js';

const NOT_JSON = 'the request body must be JSON of the form {"users":["login", ...]}';
const NO_LOGINS = `${NOT_JSON} with at least one login`;

export const ownersBody = requestSchema(
  'invalid-owners-body',
  jsonInBuffer(
    NOT_JSON,
    z.object({ users: z.array(z.string({ error: NO_LOGINS }), { error: NO_LOGINS }).min(1, { error: NO_LOGINS }) }, { error: NO_LOGINS }),
  ),
);
