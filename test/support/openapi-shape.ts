// The parts of an OpenAPI 3.1 document that must fit together for a client generator or a reader:
// the version, unique operation ids, path templates whose every `{name}` is a required path
// parameter (and no other), responses with descriptions and status keys, security schemes that
// exist, and `$ref`s that resolve. Returns the problems found, empty when none (no validator
// package: the ones that check all of OpenAPI 3.1 are large for what this needs).

type Json = Record<string, unknown>;

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const STATUS = /^(default|[1-5](\d\d|XX))$/;
const PARAMETER_PLACES = new Set(['query', 'header', 'path', 'cookie']);

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) refsIn(item, found);
  else if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$ref' && typeof inner === 'string') found.push(inner);
      else refsIn(inner, found);
    }
  }
  return found;
}

function resolves(doc: Json, ref: string): boolean {
  if (!ref.startsWith('#/')) return false;
  let at: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (at === null || typeof at !== 'object' || !(key in at)) return false;
    at = (at as Json)[key];
  }
  return true;
}

export function openApiProblems(doc: Json): string[] {
  const problems: string[] = [];
  if (typeof doc.openapi !== 'string' || !/^3\.1\.\d+$/.test(doc.openapi)) problems.push(`openapi is ${String(doc.openapi)}, not 3.1.x`);
  const info = doc.info as Json | undefined;
  if (typeof info?.title !== 'string' || typeof info.version !== 'string') problems.push('info needs a title and a version');
  const schemes = ((doc.components as Json | undefined)?.securitySchemes ?? {}) as Json;
  const checkSecurity = (where: string, security: unknown) => {
    for (const requirement of (security ?? []) as Json[]) {
      for (const name of Object.keys(requirement)) if (!(name in schemes)) problems.push(`${where}: no security scheme ${name}`);
    }
  };
  checkSecurity('document', doc.security);
  const ids = new Set<string>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Json>)) {
    if (!path.startsWith('/')) problems.push(`path ${path} does not start with /`);
    const template = new Set([...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!));
    for (const [method, operation] of Object.entries(item) as [string, Json][]) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!METHODS.has(method)) problems.push(`${where}: not an HTTP method`);
      const id = operation.operationId as string | undefined;
      if (typeof id !== 'string' || ids.has(id)) problems.push(`${where}: operationId ${String(id)} missing or not unique`);
      if (typeof id === 'string') ids.add(id);
      const parameters = (operation.parameters ?? []) as Json[];
      for (const p of parameters) {
        if (typeof p.name !== 'string' || !PARAMETER_PLACES.has(p.in as string)) problems.push(`${where}: parameter without name or place`);
        if (typeof p.schema !== 'object') problems.push(`${where}: parameter ${String(p.name)} has no schema`);
      }
      const inPath = parameters.filter((p) => p.in === 'path');
      for (const p of inPath) {
        if (p.required !== true) problems.push(`${where}: path parameter ${String(p.name)} is not required`);
        if (!template.has(p.name as string)) problems.push(`${where}: path parameter ${String(p.name)} is not in the path`);
      }
      for (const name of template) {
        if (!inPath.some((p) => p.name === name)) problems.push(`${where}: {${name}} is not a declared path parameter`);
      }
      const responses = Object.entries((operation.responses ?? {}) as Record<string, Json>);
      if (responses.length === 0) problems.push(`${where}: no responses`);
      for (const [status, response] of responses) {
        if (!STATUS.test(status)) problems.push(`${where}: response key ${status} is not a status`);
        if (typeof response.description !== 'string') problems.push(`${where}: response ${status} has no description`);
      }
      checkSecurity(where, operation.security);
    }
  }
  for (const ref of refsIn(doc)) if (!resolves(doc, ref)) problems.push(`$ref ${ref} does not resolve`);
  return problems;
}
