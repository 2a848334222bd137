// The JSON answer of `GET /api/v1/admin/advisories/:name` (routes/admin-advisories.ts): the RustSec
// advisories synced for one crate, per source.

import { z } from 'zod';

const advisory = z.object({
  id: z.string().meta({ description: 'RUSTSEC-YYYY-NNNN' }),
  package: z.string(),
  date: z.string().meta({ description: 'YYYY-MM-DD' }),
  title: z.string(),
  description: z.string().meta({ description: 'Markdown' }),
  url: z.string().nullable(),
  withdrawn: z.string().nullable().meta({ description: 'YYYY-MM-DD; a withdrawn advisory applies to nothing' }),
  informational: z.string().nullable().meta({ description: '`unmaintained`, `unsound`, `notice`...' }),
  cvss: z.string().nullable().meta({ description: 'the CVSS vector (3.0, 3.1 or 4.0)' }),
  cvss_score: z
    .number()
    .nullable()
    .meta({ description: 'its base score, computed from the vector; null without a vector or when the vector cannot be scored' }),
  aliases: z.array(z.string()),
  categories: z.array(z.string()),
  patched: z.array(z.string()).meta({ description: 'cargo version requirements' }),
  unaffected: z.array(z.string()),
});

export const crateAdvisoriesAnswer = z.object({
  crate: z.string(),
  sources: z.array(
    z.object({
      source: z.string().meta({ description: '`local`, or the name of an upstream' }),
      last_sync: z.string().nullable().meta({ description: 'when advisories were last synced for this source' }),
      advisories: z.array(advisory),
    }),
  ),
});
