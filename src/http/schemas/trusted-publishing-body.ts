// The body of a trusted-publishing exchange: {"id_token": "<JWT from the CI platform>"}.

import { z } from 'zod';
import { requestSchema } from '../zod-type-provider.js';

const SEND_ID_TOKEN = 'send a JSON body {"id_token": "<the ID token your CI platform issued>"}';

export const idTokenBody = requestSchema(
  'id-token-missing',
  z.object({ id_token: z.string({ error: SEND_ID_TOKEN }).min(1, { error: SEND_ID_TOKEN }) }, { error: SEND_ID_TOKEN }),
);
