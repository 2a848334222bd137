// Requests of the supply-chain policy API: the packages of a Cargo.lock for `policy check`, and the
// administrators' changes (a setting's value; a hold or an early release and its removal).

import { z } from 'zod';
import { requestSchema } from '../zod-type-provider.js';
import { jsonInBuffer } from './json-in-buffer.js';

const PACKAGES = '`packages` must be a list of {"name", "version", "source"} objects, as a Cargo.lock names them (at most 10000)';

export const policyCheckBody = requestSchema(
  'invalid-policy-check',
  z.object(
    {
      packages: z
        .array(
          z.object(
            { name: z.string({ error: PACKAGES }), version: z.string({ error: PACKAGES }), source: z.string({ error: PACKAGES }) },
            { error: PACKAGES },
          ),
          { error: PACKAGES },
        )
        .max(10_000, { error: PACKAGES }),
    },
    { error: PACKAGES },
  ),
);

const SETTING = 'the body must be JSON: {"value": "..."} (a duration such as "3d", deny/warn/off, a list such as "MIT,Apache-2.0")';

export const policySettingBody = requestSchema(
  'invalid-policy-setting',
  jsonInBuffer(SETTING, z.object({ value: z.string({ error: SETTING }) }, { error: SETTING })),
);

export const policySettingParams = requestSchema('invalid-policy-setting', z.object({ source: z.string(), key: z.string() }));

const EXCEPTION =
  'the body must be JSON: {"kind": "hold" | "release", "crate": "name" or "name@version", "reason": "...", "source": "local" or an upstream (optional), "expires_in": "7d" (releases, optional)}';

export const policyExceptionBody = requestSchema(
  'invalid-policy-exception',
  jsonInBuffer(
    EXCEPTION,
    z.object(
      {
        kind: z.enum(['hold', 'release'], { error: EXCEPTION }),
        crate: z.string({ error: EXCEPTION }),
        reason: z.string({ error: EXCEPTION }),
        source: z.string({ error: EXCEPTION }).optional(),
        expires_in: z.string({ error: EXCEPTION }).optional(),
      },
      { error: EXCEPTION },
    ),
  ),
);

const REMOVAL = 'the body must be JSON: {"kind": "hold" | "release", "crate": "name" or "name@version", "source": "..." (optional)}';

export const policyExceptionRemovalBody = requestSchema(
  'invalid-policy-exception',
  jsonInBuffer(
    REMOVAL,
    z.object(
      {
        kind: z.enum(['hold', 'release'], { error: REMOVAL }),
        crate: z.string({ error: REMOVAL }),
        source: z.string({ error: REMOVAL }).optional(),
      },
      { error: REMOVAL },
    ),
  ),
);
