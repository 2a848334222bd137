// The OpenAPI description at /api/v1/openapi.json: asked for with a token like the rest of the API,
// a 3.1 document whose parts fit together, made from every route fastify registered under /api,
// /index and /mirrors (a route added without a description fails here), with the request checks
// the server really makes, and response schemas that match what the handlers send.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifySchema, LightMyRequestResponse } from 'fastify';
import type { z } from 'zod';
import { publishBodyFor } from '../support/crate-fixture.js';
import { startTestRegistry, PUBLIC_URL, type TestRegistry } from '../support/in-process.js';
import { openApiProblems } from '../support/openapi-shape.js';

type Json = Record<string, unknown>;
type Operation = Json & { summary?: string; parameters?: Json[]; requestBody?: Json; responses: Record<string, Json> };

const DOCUMENTED = ['/api/', '/index/', '/mirrors/'];
const toTemplate = (url: string) => url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{path}');
const detail = (res: LightMyRequestResponse) => (JSON.parse(res.body) as { errors: { detail: string }[] }).errors[0]!.detail;

/** A value the JSON schema accepts, for the kinds of schema the API's requests use. */
function sample(schema: Json): unknown {
  if (Array.isArray(schema.anyOf)) return sample(schema.anyOf[0] as Json);
  switch (schema.type) {
    case 'string': {
      const pattern = typeof schema.pattern === 'string' ? new RegExp(schema.pattern) : undefined;
      return ['x', '1', 'x-1'].find((candidate) => pattern === undefined || pattern.test(candidate));
    }
    case 'array':
      return Array.from({ length: Math.max(1, Number(schema.minItems ?? 1)) }, () => sample(schema.items as Json));
    case 'object':
      return Object.fromEntries(
        ((schema.required ?? []) as string[]).map((key) => [key, sample((schema.properties as Json)[key] as Json)]),
      );
    default:
      return 'x';
  }
}

describe('the OpenAPI description', () => {
  let r: TestRegistry;
  const registered: { method: string; url: string; schema: FastifySchema | undefined }[] = [];
  let doc: Json & { paths: Record<string, Record<string, Operation>> };

  before(async () => {
    r = await startTestRegistry({}, undefined, {
      onRoute: (route) => {
        for (const method of [route.method].flat()) registered.push({ method, url: route.url, schema: route.schema });
      },
    });
    const res = await r.request({ method: 'GET', url: '/api/v1/openapi.json', token: r.adminToken });
    assert.equal(res.statusCode, 200, res.body);
    doc = JSON.parse(res.body) as typeof doc;
  });
  after(() => r.close());

  it("asks for a token like the rest of the API: none gets 401 in cargo's shape, a read-only token gets the document", async () => {
    const anonymous = await r.request({ method: 'GET', url: '/api/v1/openapi.json' });
    assert.equal(anonymous.statusCode, 401);
    assert.match(detail(anonymous), /requires a token/);
    const reader = (await r.registry.accounts.createToken('admin', 'reader', { scopes: ['read'] })).token;
    const res = await r.request({ method: 'GET', url: '/api/v1/openapi.json', token: reader });
    assert.equal(res.statusCode, 200, res.body);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    assert.equal((JSON.parse(res.body) as Json).openapi, '3.1.0');
  });

  it('is an OpenAPI 3.1 document whose parts fit together, with the token scheme and the error shape', () => {
    assert.deepEqual(openApiProblems(doc), []);
    assert.deepEqual(doc.servers, [{ url: PUBLIC_URL }]);
    assert.deepEqual(doc.security, [{ cargoToken: [] }]);
    const components = doc.components as { securitySchemes: Json; schemas: Json };
    assert.deepEqual(components.securitySchemes.cargoToken, {
      type: 'apiKey',
      in: 'header',
      name: 'Authorization',
      description: (components.securitySchemes.cargoToken as Json).description,
    });
    const errors = components.schemas.Errors as { properties: { errors: { items: { required: string[] } } } };
    assert.deepEqual(errors.properties.errors.items.required, ['detail']);
  });

  it('describes every route registered under /api, /index and /mirrors, and nothing else', () => {
    const routes = registered.filter((route) => route.method !== 'HEAD' && DOCUMENTED.some((prefix) => route.url.startsWith(prefix)));
    assert.ok(routes.length >= 15, `only ${routes.length} routes found`);
    for (const route of routes) {
      const operation = doc.paths[toTemplate(route.url)]?.[route.method.toLowerCase()];
      assert.ok(operation, `${route.method} ${route.url} is not in the description`);
      assert.ok(operation.summary, `${route.method} ${route.url} has no summary: add one to its schema (src/http/route-docs.ts)`);
      assert.ok(
        Object.keys(operation.responses).some((status) => status.startsWith('2')),
        `${route.method} ${route.url} describes no success answer: add a response schema or rawSuccess`,
      );
    }
    const described = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    assert.equal(described, routes.length, 'the description has operations no route registered');
    for (const cargoPath of ['/api/v1/crates/new', '/api/v1/crates/{name}/{version}/yank', '/index/{path}', '/api/v1/me/tokens']) {
      assert.ok(doc.paths[cargoPath], cargoPath);
    }
    assert.deepEqual(doc.paths['/api/v1/trusted_publishing/tokens']!.post!.security, [], 'trusted publishing takes no token');
  });

  it('documents the checks the server makes: a required body field left out, or a path parameter off its pattern, is refused with 400', async () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path');
        const fill = (values: Record<string, string>) => path.replace(/\{(\w+)\}/g, (_m, name: string) => values[name] ?? 'demo');
        const valid = Object.fromEntries(pathParams.map((p) => [p.name as string, String(sample(p.schema as Json))]));
        const send = (url: string, payload?: unknown) =>
          r.request({
            method: method.toUpperCase() as 'GET',
            url,
            token: r.adminToken,
            ...(payload === undefined ? {} : { payload: JSON.stringify(payload), headers: { 'content-type': 'application/json' } }),
          });
        const body = (operation.requestBody?.content as Json | undefined)?.['application/json'] as { schema: Json } | undefined;
        for (const param of pathParams) {
          const pattern = (param.schema as Json).pattern;
          if (typeof pattern !== 'string') continue;
          const res = await send(fill({ ...valid, [param.name as string]: 'not~matching' }), body ? sample(body.schema) : undefined);
          assert.equal(res.statusCode, 400, `${method} ${path} with ${String(param.name)} off its pattern: ${res.body}`);
          checked++;
        }
        for (const field of (body?.schema.required ?? []) as string[]) {
          const payload = sample(body!.schema) as Json;
          delete payload[field];
          const res = await send(fill(valid), payload);
          assert.equal(res.statusCode, 400, `${method} ${path} without \`${field}\`: ${res.body}`);
          assert.ok(detail(res).length > 0);
          checked++;
        }
      }
    }
    // Owners (add, remove), token creation, trusted publishing, and the token id.
    assert.ok(checked >= 5, `only ${checked} checks ran`);
  });

  it('describes the JSON answers as the handlers send them (no field missing, none left out)', async () => {
    const schemaOf = (method: string, url: string, status: number) => {
      const route = registered.find((candidate) => candidate.method === method && candidate.url === url);
      const schema = (route?.schema?.response as Record<number, z.ZodType> | undefined)?.[status];
      assert.ok(schema, `${method} ${url} has no response schema for ${status}`);
      return schema;
    };
    const matches = async (method: string, pattern: string, url: string, status: number, payload?: string | Buffer) => {
      const headers = typeof payload === 'string' ? { 'content-type': 'application/json' } : {};
      const res = await r.request({ method: method as 'GET', url, token: r.adminToken, payload, headers });
      assert.equal(res.statusCode, status, `${method} ${url}: ${res.body}`);
      const answer = JSON.parse(res.body) as unknown;
      // zod drops what its schema does not name: equal only when every field sent is described.
      assert.deepEqual(schemaOf(method, pattern, status).parse(answer), answer, `${method} ${url}`);
      return answer as Json;
    };
    await r.userToken('bob');
    await matches('PUT', '/api/v1/crates/new', '/api/v1/crates/new', 200, await publishBodyFor('demo', '1.0.0'));
    await matches('GET', '/api/v1/crates', '/api/v1/crates?q=demo', 200);
    await matches('PUT', '/api/v1/crates/:name/owners', '/api/v1/crates/demo/owners', 200, '{"users":["bob"]}');
    const owners = await matches('GET', '/api/v1/crates/:name/owners', '/api/v1/crates/demo/owners', 200);
    assert.equal((owners.users as unknown[]).length, 2);
    await matches('DELETE', '/api/v1/crates/:name/owners', '/api/v1/crates/demo/owners', 200, '{"users":["bob"]}');
    await matches('DELETE', '/api/v1/crates/:name/:version/yank', '/api/v1/crates/demo/1.0.0/yank', 200);
    await matches('PUT', '/api/v1/crates/:name/:version/unyank', '/api/v1/crates/demo/1.0.0/unyank', 200);
    const created = await matches('POST', '/api/v1/me/tokens', '/api/v1/me/tokens', 201, '{"name":"ci","scopes":["read"]}');
    await matches('GET', '/api/v1/me/tokens', '/api/v1/me/tokens', 200);
    await matches('DELETE', '/api/v1/me/tokens/:id', `/api/v1/me/tokens/${(created.token as Json).id as number}`, 200);
    await r.registry.audit.flush();
    const audit = await matches('GET', '/api/v1/admin/audit', '/api/v1/admin/audit', 200);
    assert.ok((audit.events as unknown[]).length > 0, 'the audit log had events to check');
  });
});

describe('the OpenAPI description with auth.required = false', () => {
  let r: TestRegistry;
  before(async () => {
    r = await startTestRegistry({ 'auth.required': 'false' });
  });
  after(() => r.close());

  it('lets the reads go without a token, and only the reads', async () => {
    const res = await r.request({ method: 'GET', url: '/api/v1/openapi.json' });
    assert.equal(res.statusCode, 200, res.body);
    const doc = JSON.parse(res.body) as { paths: Record<string, Record<string, { security?: unknown }>> };
    const optional = [{ cargoToken: [] }, {}];
    assert.deepEqual(doc.paths['/index/{path}']!.get!.security, optional);
    assert.deepEqual(doc.paths['/api/v1/crates/{name}/{version}/download']!.get!.security, optional);
    assert.deepEqual(doc.paths['/api/v1/crates']!.get!.security, optional);
    // The writes group's GETs still need a token: the document's own `security` applies.
    assert.equal(doc.paths['/api/v1/me/tokens']!.get!.security, undefined);
    assert.equal(doc.paths['/api/v1/admin/audit']!.get!.security, undefined);
    assert.equal(doc.paths['/api/v1/crates/new']!.put!.security, undefined);
  });
});
