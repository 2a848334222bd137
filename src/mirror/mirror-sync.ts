// `cratekeeper mirror sync`: fetches into the cache everything a Cargo.lock needs from one
// upstream (index files and .crate files, each checked against the upstream's checksum, and
// against the lockfile's), so that an air-gapped site can later serve them with `offline = true`.

import type { LockedPackage } from './lockfile.js';
import type { ProgressBar } from '../lib/progress-bar.js';
import type { UpstreamMirror } from './upstream-mirror.js';

export interface SyncResult {
  fetched: number;
  bytes: number;
  failures: Array<{ name: string; version: string; message: string }>;
}

const CONCURRENCY = 4;

export async function syncLockfile(upstream: UpstreamMirror, packages: LockedPackage[], progress?: ProgressBar): Promise<SyncResult> {
  const result: SyncResult = { fetched: 0, bytes: 0, failures: [] };
  const queue = [...packages];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      const { name, version, checksum } = next;
      try {
        const got = await upstream.crate(name, version);
        got.stream?.destroy();
        if (checksum !== undefined && got.cksum !== checksum) {
          throw new Error(`the upstream's checksum ${got.cksum} differs from the lockfile's ${checksum}`);
        }
        result.fetched++;
        result.bytes += got.size;
      } catch (error) {
        result.failures.push({ name, version, message: (error as Error).message });
      }
      progress?.tick(`${name} ${version}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  return result;
}
