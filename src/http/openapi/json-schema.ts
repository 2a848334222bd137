// A route's zod schema as the JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) of what a client
// sends or receives: zod's own z.toJSONSchema on the input side, which is what a request must look
// like. A body read from raw bytes (schemas/json-in-buffer.ts) is described as the JSON it must
// hold; transforms describe what they accept, unchecked parts (`z.unknown()`) as any value.

import { z } from 'zod';

export type JsonSchema = Record<string, unknown>;

function replaceContents(target: JsonSchema, source: JsonSchema): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, source);
}

export function jsonSchemaOf(schema: z.ZodType): JsonSchema {
  const converted = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const meta = z.globalRegistry.get(zodSchema);
      if (meta?.jsonInBuffer === true && zodSchema instanceof z.ZodPipe) {
        replaceContents(jsonSchema as JsonSchema, jsonSchemaOf(zodSchema.def.out as z.ZodType));
      }
      const out = jsonSchema as JsonSchema;
      // The registry's own marks, not part of what a client sends.
      delete out.errorCode;
      delete out.jsonInBuffer;
      // zod bounds every integer to the safe range: true of any JSON number a client reads, so noise here.
      if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
      if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
    },
  }) as JsonSchema;
  delete converted.$schema;
  return converted;
}
