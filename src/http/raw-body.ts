// The write routes read every body as raw bytes, whatever its Content-Type: cargo sends publish
// bodies without one, and the JSON bodies (owners, tokens) are parsed by their route's schema
// (schemas/json-in-buffer.ts), so a wrong Content-Type never turns into fastify's own refusal.
// Installed on the whole writes group, before its route plugins register, so all of them inherit it.

import type { FastifyInstance } from 'fastify';

export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}
