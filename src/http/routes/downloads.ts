// Crate downloads: the exact stored bytes, status 200, never a Content-Encoding (cargo would let
// curl inflate them, and the checksum would fail).

import type { FastifyInstance } from 'fastify';
import type { DownloadService } from '../../services/downloads.js';

export function downloadRoutes(app: FastifyInstance, downloads: DownloadService): void {
  app.get<{ Params: { name: string; version: string } }>(
    '/api/v1/crates/:name/:version/download',
    async (request, reply) => {
      const { stream, size, cksum } = await downloads.open(request.params.name, request.params.version);
      return reply
        .type('application/gzip')
        .header('content-length', size)
        .header('etag', `"${cksum}"`)
        .header('cache-control', 'private, max-age=31536000, immutable')
        .send(stream);
    },
  );
}
