// The JSON answers of the web API, as zod schemas: routes declare them as `response` schemas, which
// types what a handler returns and describes the answer in the API description. They are never
// applied to an answer (zod-type-provider.ts serializes with JSON.stringify), and a test checks
// real answers against them, so the description cannot drift from what is sent. Field names are
// cargo's (crates.io's web API) where cargo reads them.

import { z } from 'zod';

const timestamp = z.string().meta({ description: 'an ISO 8601 date and time (UTC)' });

export const okAnswer = z.object({ ok: z.literal(true) });

export const ownersChangedAnswer = z.object({
  ok: z.literal(true),
  msg: z.string().meta({ description: 'what changed, for cargo to print' }),
});

export const publishAnswer = z.object({
  warnings: z.object({
    invalid_categories: z.array(z.string()),
    invalid_badges: z.array(z.string()),
    other: z.array(z.string()),
  }),
});

export const searchAnswer = z.object({
  crates: z.array(z.object({ name: z.string(), max_version: z.string(), description: z.string().nullable() })),
  meta: z.object({ total: z.number().int().meta({ description: 'matching crates, over all pages' }) }),
});

export const ownersListAnswer = z.object({
  users: z.array(
    z.object({
      id: z.number().int().meta({ description: "the user's id; 0 for a group" }),
      login: z.string().meta({ description: 'a login, or `group:<name>` for a group' }),
      kind: z.enum(['user', 'group']),
      name: z.null(),
      email: z.null(),
    }),
  ),
});

const tokenRecord = z.object({
  id: z.number().int(),
  name: z.string(),
  created_at: timestamp,
  last_used_at: timestamp.nullable(),
  expires_at: timestamp.nullable().meta({ description: 'null: never expires' }),
  revoked_at: timestamp.nullable(),
  scopes: z.array(z.string()).nullable().meta({ description: 'null: every scope' }),
  crates: z.array(z.string()).nullable().meta({ description: 'null: every crate' }),
});

export const currentTokenAnswer = z.object({
  user: z.string().meta({ description: 'the user the token speaks for' }),
  id: z.number().int(),
  name: z.string().nullable().meta({ description: 'null: a token without a listed record (a browser session)' }),
  expires_at: timestamp.nullable().meta({ description: 'null: never expires' }),
  scopes: z.array(z.string()).nullable().meta({ description: 'null: every scope' }),
  crates: z.array(z.string()).nullable().meta({ description: 'null: every crate' }),
});

export const tokenListAnswer = z.object({ tokens: z.array(tokenRecord) });

export const createdTokenAnswer = z.object({
  token: tokenRecord.extend({ token: z.string().meta({ description: 'the secret, shown only in this answer' }) }),
});

export const trustedPublishingAnswer = z.object({
  token: z.string().meta({ description: 'a short-lived token for `cargo publish`' }),
  expires_at: timestamp,
  user: z.string().meta({ description: 'the user the token speaks for' }),
  crates: z.array(z.string()).meta({ description: 'the crates (names, or prefixes ending in *) it may publish' }),
});

export const auditAnswer = z.object({
  total: z.number().int().meta({ description: 'matching events, over all pages' }),
  events: z.array(
    z.object({
      id: z.number().int(),
      at: timestamp,
      action: z.string(),
      user: z.string().nullable(),
      token_id: z.number().int().nullable(),
      crate: z.string().nullable(),
      version: z.string().nullable(),
      client_ip: z.string().nullable(),
      user_agent: z.string().nullable(),
      count: z.number().int(),
      detail: z.string().nullable(),
    }),
  ),
});

/** cargo's error shape: every refusal and failure of the API, the index and the downloads. */
export const errorsAnswer = z.object({
  errors: z.array(z.object({ detail: z.string().meta({ description: 'what went wrong, written for the person running cargo' }) })).min(1),
});

/** Rustdoc hosting (routes/docs-api.ts). */
export const docsUploadAnswer = z.object({
  ok: z.literal(true),
  url: z.string().meta({ description: 'where the docs are served' }),
});

export const docBuildsAnswer = z.object({
  builds: z.array(
    z.object({
      version: z.string(),
      status: z.enum(['queued', 'building', 'done', 'failed', 'uploaded']),
      log: z.string().meta({ description: "the build's output (its last 64 KiB); empty for an upload" }),
      has_docs: z.boolean(),
      attempts: z.number().int(),
      created_at: z.string(),
      started_at: z.string().nullable(),
      finished_at: z.string().nullable(),
    }),
  ),
});

/** A finding of the supply-chain policy about one version (src/policy/version-rule.ts). */
const policyFinding = z.object({
  rule: z.enum(['quarantine', 'hold', 'advisory', 'licence']),
  effect: z.enum(['deny', 'warn']),
  detail: z.string(),
  until: z.number().optional().meta({ description: 'when the finding ends by itself (ms since the epoch)' }),
  facts: z.record(z.string(), z.string()).optional(),
});

export const policyCheckAnswer = z.object({
  packages: z.array(
    z.object({
      name: z.string(),
      version: z.string(),
      source: z.string(),
      status: z.enum(['ok', 'warned', 'denied', 'unknown', 'not-served']),
      served_from: z.string().optional().meta({ description: '`local`, or the upstream the version comes from' }),
      findings: z.array(policyFinding),
    }),
  ),
  denied: z.number().int().meta({ description: 'how many packages the policy denies' }),
});

const policyException = z.object({
  id: z.number().int(),
  kind: z.enum(['hold', 'release']),
  source: z.string().nullable().meta({ description: 'null: every source' }),
  crate: z.string(),
  version: z.string().nullable().meta({ description: 'null: every version' }),
  reason: z.string(),
  created_by: z.string().nullable(),
  created_at: timestamp,
  expires_at: timestamp.nullable(),
});

export const policyExceptionAnswer = z.object({ exception: policyException });

export const policyOverviewAnswer = z.object({
  settings: z.array(
    z.object({
      source: z.string(),
      effective: z.record(z.string(), z.string()),
      stored: z.record(z.string(), z.string()).meta({ description: 'what the database sets (over the configuration file)' }),
    }),
  ),
  exceptions: z.array(policyException),
  held_back: z.array(
    z.object({
      source: z.string(),
      crate: z.string(),
      version: z.string(),
      findings: z.array(policyFinding),
    }),
  ),
  held_back_next: z.string().nullable().meta({ description: 'pass as `after` for the next page of `held_back`; null on the last page' }),
});

/** A finding about one version of a crate, with the facts readers look for lifted out (src/policy/crate-findings.ts). */
export const versionFinding = policyFinding.extend({
  version: z.string(),
  advisory: z.string().nullable().meta({ description: 'the advisory id (RUSTSEC-...), for an advisory finding' }),
  title: z.string().nullable().meta({ description: "the advisory's title" }),
  released_at: z.string().nullable().meta({ description: 'when a quarantine ends (ISO 8601)' }),
  licence: z.string().nullable().meta({ description: 'the licence a licence finding is about' }),
});

export const licenceVerdict = z.object({
  version: z.string(),
  expression: z.string().nullable().meta({ description: "the version's `license`" }),
  verdict: z.enum(['allowed', 'warned', 'denied', 'no-rule', 'unknown']).meta({
    description: "what this registry's licence rule says of it today (information: a version was judged when published)",
  }),
  reason: z.string().nullable().meta({ description: 'which rule, when not allowed' }),
});

export const crateAnswer = z.object({
  crate: z.object({
    name: z.string(),
    max_version: z.string(),
    description: z.string().nullable(),
    documentation: z.string().nullable().meta({ description: "the crate's docs here when they exist, else what its Cargo.toml says" }),
  }),
  policy_findings: z
    .array(versionFinding)
    .meta({ description: "the supply-chain policy's findings about the crate's versions: `deny` (held back) or `warn` (served, marked)" }),
  licence: licenceVerdict.meta({ description: 'the licence of `max_version` under the licence rule' }),
});

export const mirroredCrateAnswer = z.object({
  upstream: z.string(),
  crate: z.string(),
  versions: z.array(
    z.object({
      num: z.string(),
      yanked: z.boolean().meta({ description: 'yanked by the upstream (a version the policy holds back is `denied`, not yanked)' }),
      pubtime: z.string().nullable(),
      status: z.enum(['ok', 'warned', 'denied']),
      findings: z.array(versionFinding),
    }),
  ),
  versions_omitted: z.number().int().meta({ description: 'older versions left out of `versions` (it lists the newest)' }),
});

export const policySettingAnswer = z.object({ source: z.string(), key: z.string(), value: z.string().nullable() });
