// The OpenAPI 3.1 description of the registry's HTTP API, made from the routes fastify registered
// (route-catalog.ts): each route's zod schemas (params, query, body, responses) become JSON Schema
// (json-schema.ts), and its description (route-docs.ts) the operation's text. Only the API, the
// sparse index and the mirrors are described (DOCUMENTED_PREFIXES); the pages, sign-in and probes
// are for browsers and operators. The HEAD fastify derives from each GET is not listed.

import type { FastifySchema } from 'fastify';
import type { z } from 'zod';
import { errorsAnswer } from '../schemas/api-responses.js';
import { jsonSchemaOf, type JsonSchema } from './json-schema.js';
import type { CatalogRoute } from './route-catalog.js';

export const DOCUMENTED_PREFIXES = ['/api/', '/index/', '/mirrors/'] as const;

export const OPENAPI_PATH = '/api/v1/openapi.json';

export function isDocumented(route: Pick<CatalogRoute, 'method' | 'url'>): boolean {
  return route.method !== 'HEAD' && DOCUMENTED_PREFIXES.some((prefix) => route.url.startsWith(prefix));
}

/** fastify's `/api/v1/crates/:name` as OpenAPI's `/api/v1/crates/{name}`; the wildcard `*` is `{path}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}').replace(/\*$/, '{path}');
}

export interface ApiDescriptionOptions {
  version: string;
  serverUrl: string;
  /** auth.required: when off, the reads (index, downloads, search, owners list) need no token (see RouteCatalog.tokenOptionalIn). */
  authRequired: boolean;
}

const WILDCARD_PARAM = "the rest of the path (it may contain '/')";
const ERRORS_REF = { $ref: '#/components/schemas/Errors' };
const errorAnswer = (description: string) => ({ description, content: { 'application/json': { schema: ERRORS_REF } } });

function operationId(method: string, url: string): string {
  const words = url
    .replace(/^\/api\/v1\//, '/')
    .split(/[/._-]/)
    .filter((word) => word !== '' && word !== '*')
    .map((word) => (word.startsWith(':') ? `by ${word.slice(1)}` : word));
  const camel = words.map((word) => word.replace(/(^|\s)(\w)/g, (_m, _s, c: string) => c.toUpperCase())).join('');
  return `${method.toLowerCase()}${camel}${url.endsWith('*') ? 'ByPath' : ''}`;
}

function propertiesOf(schema: JsonSchema): { name: string; schema: JsonSchema; required: boolean }[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({ name, schema: property, required: required.has(name) }));
}

function parameter(name: string, where: 'path' | 'query', schema: JsonSchema, required: boolean) {
  const { description, ...rest } = schema;
  return { name, in: where, required, ...(description === undefined ? {} : { description }), schema: rest };
}

function parametersOf(route: CatalogRoute, schema: FastifySchema) {
  const params = schema.params ? propertiesOf(jsonSchemaOf(schema.params as z.ZodType)) : [];
  const declared = new Map(params.map((p) => [p.name, p.schema]));
  const names = [...route.url.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  const path = names.map((name) => parameter(name, 'path', declared.get(name) ?? { type: 'string' }, true));
  if (route.url.endsWith('*')) path.push(parameter('path', 'path', { type: 'string', description: WILDCARD_PARAM }, true));
  const query = (schema.querystring ?? schema.documentedQuery) as z.ZodType | undefined;
  const queries = query ? propertiesOf(jsonSchemaOf(query)).map((p) => parameter(p.name, 'query', p.schema, p.required)) : [];
  return [...path, ...queries];
}

function successAnswers(schema: FastifySchema): Record<string, unknown> {
  const answers: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries((schema.response ?? {}) as Record<string, z.ZodType>)) {
    answers[status] = { description: 'done', content: { 'application/json': { schema: jsonSchemaOf(answer) } } };
  }
  const raw = schema.rawSuccess;
  if (raw) answers[String(raw.status)] = { description: raw.description, content: { [raw.mediaType]: { schema: {} } } };
  return answers;
}

function operationOf(route: CatalogRoute) {
  const schema: FastifySchema = route.schema ?? {};
  const validated = schema.params !== undefined || schema.body !== undefined || schema.querystring !== undefined;
  const tokenless = schema.authentication === 'none';
  const parameters = parametersOf(route, schema);
  return {
    operationId: operationId(route.method, route.url),
    ...(schema.summary === undefined ? {} : { summary: schema.summary }),
    ...(schema.description === undefined ? {} : { description: schema.description }),
    ...(schema.tags === undefined ? {} : { tags: [...schema.tags] }),
    ...(tokenless ? { security: [] } : route.tokenOptional ? { security: [{ cargoToken: [] }, {}] } : {}),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(schema.body === undefined
      ? schema.rawBody === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              description: schema.rawBody.description,
              content: { [schema.rawBody.mediaType]: { schema: {} } },
            },
          }
      : { requestBody: { required: true, content: { 'application/json': { schema: jsonSchemaOf(schema.body as z.ZodType) } } } }),
    responses: {
      ...successAnswers(schema),
      ...(validated ? { 400: errorAnswer('the request is not valid; `detail` says what to send instead') } : {}),
      ...(tokenless ? {} : { 401: errorAnswer('no token, or a token that is not valid (cargo: `cargo login`)') }),
      default: errorAnswer("any other refusal or failure, in cargo's error shape"),
    },
  };
}

const TAGS = [
  { name: 'index', description: 'The sparse index and the downloads: what cargo reads to resolve and fetch crates.' },
  { name: 'publish', description: '`cargo publish` and `cargo yank`.' },
  { name: 'owners', description: '`cargo owner`.' },
  { name: 'crates', description: 'Reading the registry: `cargo search`.' },
  { name: 'tokens', description: 'Your own API tokens.' },
  { name: 'trusted publishing', description: 'Publishing from CI without a stored token.' },
  { name: 'mirrors', description: 'Upstream registries served at `/mirrors/{upstream}/index/`.' },
  { name: 'admin', description: 'For administrators.' },
  { name: 'meta', description: 'This description.' },
];

/** The document, from the routes the app registered; routes outside DOCUMENTED_PREFIXES are left out. */
export function buildOpenApiDocument(routes: readonly CatalogRoute[], options: ApiDescriptionOptions) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes.filter(isDocumented)) {
    const path = openApiPath(route.url);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.1.0',
    info: {
      title: 'cratekeeper registry API',
      version: options.version,
      description:
        "A private Cargo registry: cargo's web API, the sparse index and downloads. Every request carries a token in " +
        '`Authorization`, as cargo sends it' +
        (options.authRequired ? '.' : '; with `auth.required = false` the reads answer without one.') +
        ' Refusals use cargo\'s error shape, `{"errors": [{"detail": "..."}]}`.',
    },
    servers: [{ url: options.serverUrl }],
    security: [{ cargoToken: [] }],
    tags: TAGS,
    paths: sorted,
    components: {
      securitySchemes: {
        cargoToken: {
          type: 'apiKey',
          in: 'header',
          name: 'Authorization',
          description: 'A cratekeeper token, as cargo sends it (the token alone; `Bearer <token>` is accepted too).',
        },
      },
      schemas: { Errors: jsonSchemaOf(errorsAnswer) },
    },
  };
}
