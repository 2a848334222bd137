// Crate downloads: the exact stored bytes, status 200, never a Content-Encoding (cargo would let
// curl inflate them, and the checksum would fail).

import type { FastifyInstance } from 'fastify';
import type { AccessPolicy } from '../../auth/access-policy.js';
import type { AuditRecorder } from '../../services/audit-recorder.js';
import type { DownloadCounter } from '../../services/download-counter.js';
import { auditSource } from '../audit-source.js';
import { versionNotFound, type DownloadService } from '../../services/downloads.js';

export function downloadRoutes(
  app: FastifyInstance,
  downloads: DownloadService,
  policy: AccessPolicy,
  audit: AuditRecorder,
  counter: DownloadCounter,
): void {
  app.get<{ Params: { name: string; version: string } }>(
    '/api/v1/crates/:name/:version/download',
    async (request, reply) => {
      const { name, version } = request.params;
      // A crate the principal may not read is answered exactly like one that does not exist.
      if (!policy.mayRead(request.principal, name)) {
        audit.record('access-refused', auditSource(request), { crate: name, version, detail: 'download refused by an access rule' });
        throw versionNotFound(name, version);
      }
      const { stream, size, cksum, crate } = await downloads.open(name, version);
      audit.record('download', auditSource(request), { crate, version });
      // Only a download that is answered with the file counts (a refusal or a 404 threw above).
      counter.count(crate, version);
      return reply
        .type('application/gzip')
        .header('content-length', size)
        .header('etag', `"${cksum}"`)
        .header('cache-control', 'private, max-age=31536000, immutable')
        .send(stream);
    },
  );
}
