// Route schemas in zod: one schema checks a request's body, params or query and types it for the
// handler. Written here rather than taken from fastify-type-provider-zod, whose peer dependencies
// (@fastify/swagger, openapi-types) would put an OpenAPI generator in the server's tree; what the
// registry needs is the two halves below. A failed check becomes the registry's own error (kind
// `invalid`, 400) with the message of the first problem, so it reads like every other refusal.
// Routes without a schema compile no validator: the hot path (index, downloads) declares none.
// Response schemas describe the JSON API's answers for the API description and type what a handler
// returns; they never change an answer: the serializer they get is JSON.stringify, as without one.

import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifySchemaCompiler,
  FastifySerializerCompiler,
  FastifyTypeProvider,
  RawServerDefault,
} from 'fastify';
import { z } from 'zod';
import { invalid, isErrorCode, type ErrorCode } from '../domain/errors.js';

/** Types `request.body`, `params` and `query` from the zod schemas a route declares. */
export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

/** The one shape of a route group: a fastify plugin with typed options, registered with `register`. */
export type RoutePlugin<Options extends object = Record<never, never>> = FastifyPluginAsync<Options, RawServerDefault, ZodTypeProvider>;

/**
 * A schema for one part of a request, with the error code its refusal carries (codes are part of
 * the API: clients and tests match on them). Each issue's message is what the caller reads, so
 * every check in the schema should say, for the person running cargo, what to send instead.
 */
export function requestSchema<T extends z.ZodType>(errorCode: ErrorCode, schema: T): T {
  return schema.meta({ errorCode }) as T;
}

function errorCodeOf(schema: z.ZodType, where: string): ErrorCode {
  const code = z.globalRegistry.get(schema)?.errorCode;
  if (typeof code !== 'string' || !isErrorCode(code)) {
    throw new Error(`the schema for ${where} has no error code: declare it with requestSchema(code, schema)`);
  }
  return code;
}

/**
 * The message a caller reads for a failed check: the first issue's. Schemas give every check a
 * message of its own; zod's default (which names no field) only shows for a check that forgot to.
 */
export function detailOf(error: z.ZodError, part: string): string {
  return error.issues[0]?.message ?? `the request's ${part} is not valid`;
}

const compileZodSchema: FastifySchemaCompiler<z.ZodType> = ({ schema, method, url, httpPart }) => {
  const part = httpPart === 'querystring' ? 'query' : (httpPart ?? 'input');
  const code = errorCodeOf(schema, `${part} of ${method} ${url}`);
  return (data: unknown) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: invalid(code, detailOf(result.error, part)) };
  };
};

/** A response schema documents; the answer is what the handler returned, as JSON.stringify writes it. */
const unchangedJson: FastifySerializerCompiler<z.ZodType> = ({ schema, method, url, httpStatus }) => {
  if (!(schema instanceof z.ZodType)) throw new Error(`the response schema ${httpStatus} of ${method} ${url} is not a zod schema`);
  return (data: unknown) => JSON.stringify(data);
};

/** Makes zod schemas the app's route schemas (call once, on the root instance). */
export function installZodValidation(app: FastifyInstance): void {
  app.setValidatorCompiler(compileZodSchema);
  app.setSerializerCompiler(unchangedJson);
}
