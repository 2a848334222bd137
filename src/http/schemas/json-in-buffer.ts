// The write routes read every body as raw bytes (cargo sends publish bodies without a
// Content-Type, see raw-body.ts), so a JSON body reaches its schema as a Buffer: this parses it
// first, and refuses text that is not JSON with the route's own message. The mark `jsonInBuffer`
// tells the API description (openapi/json-schema.ts) to describe the JSON, not the bytes.

import { z } from 'zod';

export function jsonInBuffer<T extends z.ZodType>(notJson: string, schema: T) {
  return z
    .unknown()
    .transform((raw, ctx): unknown => {
      try {
        return JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : '');
      } catch {
        ctx.addIssue({ code: 'custom', message: notJson });
        return z.NEVER;
      }
    })
    .pipe(schema)
    .meta({ jsonInBuffer: true });
}
