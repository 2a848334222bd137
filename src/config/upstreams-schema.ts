// The `[[upstreams]]` part of the configuration: registries that cratekeeper mirrors. Each one is
// served at `<public-url>/mirrors/<name>/index/`; its credentials come from an environment variable
// or a .netrc (with an auth pattern: basic, bearer, or a template), like the client toolkit's, and
// go, with its extra headers, only to its index_url's origin and the `credential_origins` listed.
// From the environment, `CRATEKEEPER_UPSTREAMS__0__NAME=...` defines the list (replacing the file's).

import { z } from 'zod';
import { boolean, cratePatterns, duration, integer, text } from './fields.js';
import { AuthPatternError, parseAuthPattern } from '@cratekeeper/client/network';

const headerTable = () =>
  z.record(
    z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, { error: 'not a header name' }),
    z
      .string({ error: 'expected a header value' })
      .refine((v) => !/[\0-\x08\n-\x1f\x7f]/.test(v), { error: 'a header value cannot contain control characters' }),
  );

const indexUrl = text()
  .transform((v) => v.replace(/^sparse\+/, ''))
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && !url.search && !url.hash && value.endsWith('/');
      } catch {
        return false;
      }
    },
    { error: 'expected a sparse index URL: http(s)://host/path/ (ending in /, "sparse+" allowed)' },
  );

const proxyUrl = text().refine(
  (value) => {
    try {
      return ['http:', 'socks5:', 'socks5h:'].includes(new URL(value).protocol);
    } catch {
      return false;
    }
  },
  { error: 'expected http://host:port or socks5://host:port' },
);

/** `https://host[:port]`: an origin (scheme, host, port), nothing else; it becomes URL.origin. */
const origin = text()
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (
          (url.protocol === 'http:' || url.protocol === 'https:') &&
          url.username === '' &&
          url.password === '' &&
          url.pathname === '/' &&
          !value.includes('?') &&
          !value.includes('#')
        );
      } catch {
        return false;
      }
    },
    { error: 'expected an origin: http(s)://host or http(s)://host:port, with no path, user, query or fragment' },
  )
  .transform((value) => new URL(value).origin);

/** A list of origins; from the environment, comma-separated. */
const originList = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? (v.trim() === '' ? [] : v.split(',').map((s) => s.trim())) : v),
    z.array(origin, { error: 'expected a list of origins, e.g. ["https://static.example.com"]' }),
  );

const authSchema = z
  .strictObject({
    /** Name of an environment variable holding the secret (the pattern's <password>). */
    token_env: text()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'expected an environment variable name' })
      .optional(),
    /** Login for patterns that use <login> (basic), with token_env. */
    login: text().optional(),
    /** A .netrc file holding login and password for the upstream's host. */
    netrc: text().optional(),
    /** The .netrc machine to use (default: the upstream's host, with and without its port). */
    netrc_machine: text().optional(),
    /** basic, bearer, token (the secret as-is), custom_prefix:<p>, or a template like "token <password>". */
    pattern: text()
      .superRefine((value, ctx) => {
        try {
          parseAuthPattern(value);
        } catch (error) {
          if (!(error instanceof AuthPatternError)) throw error;
          ctx.addIssue({ code: 'custom', message: error.message });
        }
      })
      .default('token'),
    /** The header the pattern fills. */
    header: text().default('Authorization'),
  })
  .superRefine((auth, ctx) => {
    if ((auth.token_env === undefined) === (auth.netrc === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['token_env'], message: 'give exactly one of token_env and netrc' });
    }
  });

export const upstreamSchema = z
  .strictObject({
    name: text().regex(/^[a-z0-9][a-z0-9_-]*$/, { error: 'expected lower-case letters, digits, - and _ (it becomes a URL path)' }),
    index_url: indexUrl,
    auth: authSchema.optional(),
    headers: z
      .strictObject({ index: headerTable().default({}), download: headerTable().default({}), api: headerTable().default({}) })
      .prefault({}),
    /**
     * Origins besides the index_url's own that receive `auth` and `headers` (a download host that the
     * upstream's config.json `dl` names, say). Every other origin gets plain requests.
     */
    credential_origins: originList().default([]),
    proxy: proxyUrl.optional(),
    /** Longest wait for an upstream answer when nothing is cached. */
    timeout_ms: integer(100, 600_000).default(30_000),
    /** Longest wait for a revalidation when a cached copy exists; after it, the cached copy is served. */
    stale_timeout_ms: integer(10, 600_000).default(2_000),
    /** How long a fetched index file is served without asking the upstream again. */
    index_ttl_seconds: integer(0, 86_400 * 365).default(60),
    allow: cratePatterns().default(['*']),
    deny: cratePatterns().default([]),
    /** Also serve this upstream's crates in the main index (local crates always win). */
    main_index: boolean().default(false),
    /** Serve only what is cached; never contact the upstream. */
    offline: boolean().default(false),
    /** Names a new local crate may take even though this upstream has a crate of that name. */
    local_names: cratePatterns().default([]),
    /**
     * Quarantine (docs/policy.md): versions younger than this are left out of the index and their
     * downloads refused. The default for `cratekeeper policy set <upstream> min_release_age`.
     */
    min_release_age: duration(0, 365 * 86_400_000).optional(),
  })
  .superRefine((upstream, ctx) => {
    // Secrets for an https upstream never travel unencrypted, whatever host asks for them.
    // (Runs even when other settings are invalid, so that every problem is reported at once.)
    const origins: unknown = upstream.credential_origins;
    if (typeof upstream.index_url !== 'string' || !upstream.index_url.startsWith('https:') || !Array.isArray(origins)) return;
    for (const [i, o] of origins.entries()) {
      if (typeof o === 'string' && o.startsWith('http:')) {
        ctx.addIssue({
          code: 'custom',
          path: ['credential_origins', i],
          message: `${o} is plain http, and index_url is https: the credentials would travel unencrypted (use https://)`,
        });
      }
    }
  });

/** Environment variables give `upstreams.0.name`: a table with numeric keys, which becomes a list. */
function numericTableToList(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  if (!keys.every((k) => /^\d+$/.test(k))) return value;
  return keys.sort((a, b) => Number(a) - Number(b)).map((k) => (value as Record<string, unknown>)[k]);
}

export const upstreamsSchema = z
  .preprocess(numericTableToList, z.array(upstreamSchema, { error: 'expected a list of [[upstreams]] tables' }))
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, upstream] of list.entries()) {
      if (seen.has(upstream.name))
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `another upstream is also named "${upstream.name}"` });
      seen.add(upstream.name);
    }
  })
  .default([]);

export type UpstreamConfig = z.output<typeof upstreamSchema>;
