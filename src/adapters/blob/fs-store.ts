// Blobs as files under a folder. A write goes to a temporary file that is flushed to disk and then
// renamed into place, and the folder is flushed too: after put() resolves, the file survives a crash,
// and no reader ever sees half a file.

import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobFile, BlobStore } from '../../ports/blob-store.js';

export class FsBlobStore implements BlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`blob key escapes the blob folder: ${key}`);
    return path;
  }

  async put(key: string, bytes: Buffer): Promise<void> {
    const path = this.pathOf(key);
    const folder = dirname(path);
    await mkdir(folder, { recursive: true });
    const temporary = join(folder, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      const file = await open(temporary, 'wx');
      try {
        await file.writeFile(bytes);
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    const dir = await open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  async open(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    const file = await this.openFile(key);
    // The stream closes the file at its end, or when it is destroyed.
    return file && { stream: file.handle.createReadStream(), size: file.size };
  }

  /** Opened, then measured by its handle: the size is that of the file the handle reads. */
  async openFile(key: string): Promise<BlobFile | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) throw new Error(`the blob ${key} is not a regular file`);
      return { handle, size: info.size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async close(): Promise<void> {}
}
