// Where .crate files live. Keys are content-addressed by the publisher (they include the SHA-256),
// so writing the same key twice writes the same bytes and a half-finished publish can never
// overwrite a file that a committed version points to.

import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';

/** A blob that is a file on this machine, opened, for a sender that reads it itself. */
export interface BlobFile {
  /** The caller closes it. */
  handle: FileHandle;
  size: number;
}

export interface BlobStore {
  /** Stores the bytes durably; when it resolves, the blob survives a crash. */
  put(key: string, bytes: Buffer): Promise<void>;
  /** A stream of the blob, or undefined when there is no such blob. */
  open(key: string): Promise<{ stream: Readable; size: number } | undefined>;
  /**
   * The blob as an open file, or undefined when there is no such blob: only a store that keeps its
   * blobs as local files has it. HTTP/2 then sends the file from native code (`respondWithFD`),
   * without a JavaScript stream per download.
   */
  openFile?(key: string): Promise<BlobFile | undefined>;
  /** Removes a blob; no error when it does not exist. */
  delete(key: string): Promise<void>;
  close(): Promise<void>;
}
