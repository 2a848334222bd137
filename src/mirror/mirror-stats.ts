// What a mirror has cached and its last error, for `cratekeeper mirror status`. Kept in memory by
// the serving process and written to the blob store (`mirror/<name>/status.json`) a moment after
// each change, merged with what is there, so that the status command (another process) and other
// replicas see it. Entries only ever get added or resized, so merging is a union.

import type { BlobStore } from '../ports/blob-store.js';

export interface MirrorStatus {
  indexFiles: Record<string, number>;
  crates: Record<string, number>;
  lastError: { at: string; message: string } | null;
  lastSuccessAt: string | null;
}

const FLUSH_DELAY_MS = 500;

function empty(): MirrorStatus {
  return { indexFiles: {}, crates: {}, lastError: null, lastSuccessAt: null };
}

const later = <T extends { at: string } | string | null>(a: T, b: T, at: (x: NonNullable<T>) => string): T =>
  a === null ? b : b === null ? a : at(a as NonNullable<T>) >= at(b as NonNullable<T>) ? a : b;

export function mergeStatus(a: MirrorStatus, b: MirrorStatus): MirrorStatus {
  return {
    indexFiles: { ...a.indexFiles, ...b.indexFiles },
    crates: { ...a.crates, ...b.crates },
    lastError: later(a.lastError, b.lastError, (e) => e.at),
    lastSuccessAt: later(a.lastSuccessAt, b.lastSuccessAt, (s) => s),
  };
}

export async function readStatus(blobs: BlobStore, key: string): Promise<MirrorStatus> {
  const opened = await blobs.open(key);
  if (!opened) return empty();
  const chunks: Buffer[] = [];
  for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
  try {
    return { ...empty(), ...(JSON.parse(Buffer.concat(chunks).toString('utf8')) as MirrorStatus) };
  } catch {
    return empty();
  }
}

export class MirrorStats {
  private pending = empty();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly blobs: BlobStore,
    private readonly key: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  indexFile(path: string, size: number): void {
    this.pending.indexFiles[path] = size;
    this.pending.lastSuccessAt = new Date().toISOString();
    this.changed();
  }

  crate(key: string, size: number): void {
    this.pending.crates[key] = size;
    this.pending.lastSuccessAt = new Date().toISOString();
    this.changed();
  }

  error(message: string): void {
    this.pending.lastError = { at: new Date().toISOString(), message };
    this.changed();
  }

  /** What is stored merged with what this process has not written yet. */
  async read(): Promise<MirrorStatus> {
    await this.writing;
    return mergeStatus(await readStatus(this.blobs, this.key), this.pending);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.dirty) return this.writing;
    this.dirty = false;
    const mine = this.pending;
    this.pending = empty();
    this.writing = this.writing
      .then(async () => {
        const merged = mergeStatus(await readStatus(this.blobs, this.key), mine);
        await this.blobs.put(this.key, Buffer.from(JSON.stringify(merged)));
      })
      .catch((error: unknown) => {
        this.pending = mergeStatus(mine, this.pending);
        this.dirty = true;
        this.onError(error);
      });
    return this.writing;
  }

  private changed(): void {
    this.dirty = true;
    this.timer ??= setTimeout(() => void this.flush(), FLUSH_DELAY_MS).unref();
  }
}
